"""``fairseq-vmf-embed``: the target-embedding table for a prepared data folder.

Trains fastText vectors on the target side of the training data (or takes a user's
``.bin`` / ``.vec``), then writes a table aligned row by row with the fairseq target
dictionary, with its coverage report beside it::

    <data>/embeddings/<name>.<lang>.bin            the trained fastText model (when training)
    <data>/embeddings/<name>.<lang>.npz            the table: ``vectors`` (V x d), ``symbols``
    <data>/embeddings/<name>.<lang>.coverage.json  own / composed / missing counts
"""

import argparse
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import List, Optional

from fairseq_vmf_text.commands import add_config_argument, parse_args, run_main

from ..data.dictionary import read_dictionary
from ..data.steps import StepRunner
from ..embeddings.table_extension import extend_table, read_word_list, words_of_text
from ..embeddings.target_table import TargetEmbeddingTable, build_target_table, read_coverage, write_coverage
from ..embeddings.vectors import FastTextSettings, RandomVectors, load_vectors, train_fasttext
from ..errors import InputError

logger = logging.getLogger("fairseq_vmf.embed")

VARIANTS = {
    # skip-gram with character n-grams (fastText): the paper's target vectors
    "fasttext": True,
    # skip-gram over whole words only, like word2vec (the paper's weaker variant)
    "word2vec": False,
    # no training: every word gets a fixed random unit vector (Tokarchuk & Niculae 2024);
    # in m dimensions two such rows have cosine ~ N(0, 1/m), nearly orthogonal
    "random": None,
}


def build_parser() -> argparse.ArgumentParser:
    defaults = FastTextSettings()
    parser = argparse.ArgumentParser(prog="fairseq-vmf-embed", description=__doc__.split("\n")[0])
    add_config_argument(parser)
    parser.add_argument("--data", type=Path, help="folder made by fairseq-vmf-prepare")
    parser.add_argument("--lang", help="language of the table (default: the data folder's target)")
    parser.add_argument("--dict", type=Path, help="fairseq dictionary (default: <data>/bin/dict.<lang>.txt)")
    parser.add_argument("--train-text", type=Path,
                        help="text to train vectors on (default: <data>/text/train.<lang>)")
    parser.add_argument("--out-dir", type=Path, help="where to write (default: <data>/embeddings)")
    parser.add_argument("--vectors", type=Path,
                        help="use this fastText .bin, text .vec, or a softmax model's checkpoint .pt (its "
                             "output embeddings; same target dictionary) instead of training vectors")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="fasttext",
                        help="vectors to train: fasttext (skip-gram with character n-grams), word2vec (whole "
                             "words) or random (seeded random unit rows, nothing trained)")
    parser.add_argument("--name", help="file name stem (default: the variant, or the --vectors file's stem)")
    parser.add_argument("--dim", type=int,
                        help=f"embedding dimension (default {defaults.dim} for trained or random vectors; with "
                             "--vectors, the file's own size, checked against --dim when given)")
    parser.add_argument("--epoch", type=int, default=defaults.epoch)
    parser.add_argument("--min-count", type=int, default=defaults.min_count)
    parser.add_argument("--minn", type=int, default=defaults.minn, help="shortest character n-gram")
    parser.add_argument("--maxn", type=int, default=defaults.maxn, help="longest character n-gram")
    parser.add_argument("--bucket", type=int, default=defaults.bucket, help="hashed n-gram rows")
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--window", type=int, default=defaults.window)
    parser.add_argument("--negatives", type=int, default=defaults.negatives)
    parser.add_argument("--threads", type=int, default=defaults.threads,
                        help="fastText threads; only 1 gives the same vectors on every run")
    parser.add_argument("--seed", type=int, default=1, help="seed for the random rows of special and missing symbols")
    parser.add_argument("--center", action=argparse.BooleanOptionalAction, default=True,
                        help="subtract the mean word vector before normalising (default: on; "
                             "raw fastText vectors share one dominant direction)")
    parser.add_argument("--random-mix", type=float, default=0.0, metavar="W",
                        help="mix each word row with a random direction of its own: unit(sqrt(1-W) row + "
                             "sqrt(W) random), drawn from --seed and the word (default 0: off); spreads "
                             "crowded neighbours apart; name the table with --name")
    parser.add_argument("--overwrite", action="store_true",
                        help="redo steps whose settings changed and replace files this command did not make")
    extend = parser.add_argument_group(
        "extending a table", "--extend BASE.npz --vectors V --output OUT.npz and one word source: a decoding "
        "table whose first rows are exactly BASE's and whose extra rows embed new words in BASE's space")
    extend.add_argument("--extend", type=Path, metavar="BASE.npz", help="the table to extend (made by this command)")
    extend.add_argument("--output", type=Path, help="the extended table to write (never an existing file)")
    extend.add_argument("--words", type=Path, help="new words, one per line")
    extend.add_argument("--words-from-text", type=Path, help="every distinct token of this text file")
    extend.add_argument("--words-from-vectors", action="store_true",
                        help="every word of the --vectors file's own vocabulary")
    return parser


def extend(args: argparse.Namespace) -> Path:
    """Write BASE's rows plus rows for new words (see ``embeddings.table_extension``)."""
    sources = [args.words is not None, args.words_from_text is not None, args.words_from_vectors]
    if sum(sources) != 1:
        raise InputError("--extend needs exactly one of --words, --words-from-text, --words-from-vectors")
    if args.vectors is None or args.output is None:
        raise InputError("--extend needs --vectors (the vectors BASE was made from) and --output")
    if args.output.exists():
        raise InputError(f"--output {args.output}: exists; choose a new file (nothing is overwritten)")
    if args.vectors.suffix.lower() == ".pt":
        raise InputError(f"--vectors {args.vectors}: a checkpoint's output embeddings cover only its own "
                         "dictionary; extend with the fastText .bin or .vec the table was made from")
    if args.output.suffix != ".npz":
        raise InputError(f"--output {args.output}: a table is an .npz file")
    base = TargetEmbeddingTable.load(args.extend)
    if args.words is not None:
        words = read_word_list(args.words)
    elif args.words_from_text is not None:
        words = words_of_text(args.words_from_text)
    else:
        words = None
    wanted = set(base.symbols) | set(words or [])
    vectors = load_vectors(args.vectors, wanted if words is not None else None)
    if words is None:
        words = vocabulary_of(vectors, args.vectors)
    table, report = extend_table(base, words, vectors, f"--extend {args.extend}")
    table.save(args.output)
    coverage = args.output.with_suffix(".coverage.json")
    coverage.write_text(json.dumps({"base": str(args.extend), "vectors": str(args.vectors), **report}, indent=1) + "\n",
                        encoding="utf-8")
    print(f"extended table: {args.output} ({report['base_rows']} rows of {args.extend} + {report['extra_rows']} new: "
          f"{report['own']} own vectors, {report['composed']} composed from n-grams; "
          f"{report['skipped_no_vector']} words without a vector skipped; report {coverage})")
    return args.output


def vocabulary_of(vectors, path: Path) -> List[str]:
    if hasattr(vectors, "model"):  # fastText .bin
        return list(vectors.model.get_words())
    if hasattr(vectors, "vectors") and isinstance(vectors.vectors, dict):  # text .vec, read in full
        return list(vectors.vectors)
    raise InputError(f"--words-from-vectors: {path} has no word list of its own")


def resolve_paths(args: argparse.Namespace):
    """Fill --lang, --dict, --train-text and --out-dir from --data where not given."""
    lang = args.lang
    if args.data is not None:
        manifest = args.data / "prepare.json"
        if not manifest.is_file():
            raise InputError(f"--data {args.data}: no prepare.json there; run fairseq-vmf-prepare first")
        lang = lang or json.loads(manifest.read_text(encoding="utf-8"))["tgt"]
    if not lang:
        raise InputError("--lang is required when --data is not given")
    if args.data is None and (args.dict is None or args.out_dir is None):
        raise InputError("give --data, or both --dict and --out-dir")
    dict_path = args.dict or args.data / "bin" / f"dict.{lang}.txt"
    train_text = args.train_text or (args.data / "text" / f"train.{lang}" if args.data else None)
    out_dir = args.out_dir or args.data / "embeddings"
    if not dict_path.is_file():
        raise InputError(f"{dict_path}: target dictionary not found")
    return lang, dict_path, train_text, out_dir


def build(args: argparse.Namespace) -> Path:
    """Train or load vectors and write the table; returns the table's path."""
    lang, dict_path, train_text, out_dir = resolve_paths(args)
    dictionary = read_dictionary(dict_path)
    if args.dim is not None and args.dim <= 0:
        raise InputError(f"--dim {args.dim}: must be positive")
    if not 0 <= args.random_mix < 1:
        raise InputError(f"--random-mix {args.random_mix}: must be in [0, 1)")
    steps = StepRunner(out_dir, overwrite=args.overwrite)
    name = args.name or (args.vectors.stem if args.vectors else args.variant)
    name = name.removesuffix(f".{lang}")  # "vectors.fr.bin" -> "vectors.fr.npz", not "vectors.fr.fr.npz"
    vectors_path = args.vectors
    if vectors_path is not None and not vectors_path.is_file():
        raise InputError(f"--vectors {vectors_path}: file not found")
    given = None  # a user's vectors without --dim: read once, their size is the table's
    if args.dim is None and vectors_path is not None:
        given = load_vectors(vectors_path, dictionary.symbols)
    dim = given.dim if given is not None else (args.dim if args.dim is not None else FastTextSettings().dim)
    settings = None
    if vectors_path is None and args.variant == "random":
        pass  # every word row is drawn from --seed by build_target_table
    elif vectors_path is None:
        if train_text is None or not train_text.is_file():
            raise InputError(f"{train_text}: training text not found (pass --train-text or --vectors)")
        settings = FastTextSettings(
            dim=dim, subwords=VARIANTS[args.variant], epoch=args.epoch, min_count=args.min_count,
            minn=args.minn, maxn=args.maxn, bucket=args.bucket, lr=args.lr, window=args.window,
            negatives=args.negatives, threads=args.threads,
        )
        vectors_path = out_dir / f"{name}.{lang}.bin"
        steps.run(
            f"fasttext.{name}.{lang}",
            [vectors_path],
            asdict(settings),
            lambda: train_fasttext(train_text, vectors_path, settings),
            inputs=[train_text],
        )

    table_path = out_dir / f"{name}.{lang}.npz"
    coverage_path = out_dir / f"{name}.{lang}.coverage.json"

    def make_table():
        if vectors_path is None:
            vectors = RandomVectors(dim)
        else:
            vectors = given or load_vectors(vectors_path, dictionary.symbols, expected_dim=dim)
        table, coverage = build_target_table(dictionary.symbols, vectors, seed=args.seed, center=args.center,
                                             random_mix=args.random_mix)
        table.save(table_path)
        write_coverage(coverage_path, coverage, {
            "vectors": str(vectors_path) if vectors_path else "random",
            "dictionary": str(dict_path),
            "dim": table.dim,
            "rows": len(table.symbols),
            "seed": args.seed,
            "center": args.center,
            "random_mix": args.random_mix,
            "fasttext": asdict(settings) if settings else None,
        })

    steps.run(
        f"table.{name}.{lang}",
        [table_path, coverage_path],
        # random_mix only when set, so tables made before the option keep their step settings
        {"seed": args.seed, "dim": dim, "center": args.center,
         **({"random_mix": args.random_mix} if args.random_mix else {})},
        make_table,
        inputs=[dict_path] + ([vectors_path] if vectors_path else []),
    )
    print(f"target embeddings: {table_path}")
    print(f"coverage: {read_coverage(coverage_path).summary()}")
    return table_path


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(build_parser(), argv)
    if args.extend is not None:
        extend(args)
    else:
        build(args)


def cli_main() -> None:
    run_main(main, "fairseq-vmf-embed")


if __name__ == "__main__":
    cli_main()
