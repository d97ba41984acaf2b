"""``fairseq-vmf-prepare``: raw parallel text to a binarized fairseq data folder.

Steps (each skipped when already done with the same settings; see ``data/steps.py``)::

    raw/{split}.{lang}       the raw sentences, whitespace runs collapsed (references for scoring)
    tok/{split}.{lang}       Moses-tokenized
    spm/spm.{lang}.model     SentencePiece model, for a side segmented with SentencePiece
    text/{split}.{lang}      the segmented text fed to fairseq-preprocess
    bin/                     fairseq-preprocess output (dictionaries, .bin/.idx)
    prepare.json             what was made and how (read by fairseq-vmf-detok)
"""

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from fairseq_vmf_text.commands import add_config_argument, parse_args, run_main
from fairseq_vmf_text.corpus import MULTI30K_SPLITS, check_language_pair, find_raw_file, read_parallel, write_lines, read_lines
from fairseq_vmf_text.moses import moses_tokenize
from fairseq_vmf_text.subwords import sentencepiece_encode, train_sentencepiece

from ..data.steps import StepRunner
from ..errors import InputError
from .common import default_raw_dir

logger = logging.getLogger("fairseq_vmf.prepare")

SEGMENTATIONS = ("words", "spm")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fairseq-vmf-prepare", description=__doc__.split("\n")[0])
    add_config_argument(parser)
    parser.add_argument("--src", required=True, help="source language: en, de or fr")
    parser.add_argument("--tgt", required=True, help="target language: en, de or fr")
    parser.add_argument("--raw-dir", type=Path, default=None,
                        help="folder of {split}.{lang}[.gz] files (default: ../shared/data/multi30k)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: data/multi30k.SRC-TGT)")
    parser.add_argument("--train-split", default=MULTI30K_SPLITS["train"], help="file stem of the training split")
    parser.add_argument("--valid-split", default=MULTI30K_SPLITS["valid"], help="file stem of the validation split")
    parser.add_argument("--test-split", default=MULTI30K_SPLITS["test"], help="file stem of the test split")
    parser.add_argument("--src-seg", choices=SEGMENTATIONS, default="spm",
                        help="source segmentation: SentencePiece pieces or Moses words (default: spm)")
    parser.add_argument("--tgt-seg", choices=SEGMENTATIONS, default="words",
                        help="target segmentation: Moses words for continuous outputs, spm for softmax baselines")
    parser.add_argument("--src-spm-vocab", type=int, default=8000, help="source SentencePiece vocabulary size")
    parser.add_argument("--tgt-spm-vocab", type=int, default=8000, help="target SentencePiece vocabulary size")
    parser.add_argument("--spm-model-type", choices=("unigram", "bpe"), default="unigram")
    parser.add_argument("--src-min-freq", type=int, default=0,
                        help="source symbols seen fewer times in train become <unk> (fairseq --thresholdsrc)")
    parser.add_argument("--tgt-min-freq", type=int, default=0,
                        help="target symbols seen fewer times in train become <unk> (fairseq --thresholdtgt)")
    parser.add_argument("--src-vocab-size", type=int, default=-1, help="keep the N most frequent source symbols (-1: all)")
    parser.add_argument("--tgt-vocab-size", type=int, default=-1, help="keep the N most frequent target symbols (-1: all)")
    parser.add_argument("--normalize-punct", action="store_true",
                        help="apply Moses punctuation normalisation before tokenizing")
    parser.add_argument("--max-lines", type=int, default=None, help="use only the first N lines of each split")
    parser.add_argument("--max-words-per-line", type=int, default=1000,
                        help="refuse a corpus with a longer line (the models take at most 1024 positions; "
                             "fairseq would drop such a training pair silently and fail on a valid/test one)")
    parser.add_argument("--workers", type=int, default=2, help="fairseq-preprocess worker processes")
    parser.add_argument("--seed", type=int, default=1, help="seed for SentencePiece training")
    parser.add_argument("--overwrite", action="store_true",
                        help="redo steps whose settings changed and replace files this pipeline did not make")
    return parser


def prepare(args: argparse.Namespace) -> Path:
    """Run all steps; returns the output folder."""
    check_language_pair(args.src, args.tgt)
    raw_dir = args.raw_dir or default_raw_dir()
    out = args.out or Path("data") / f"multi30k.{args.src}-{args.tgt}"
    if args.max_lines is not None and args.max_lines <= 0:
        raise InputError(f"--max-lines {args.max_lines}: must be positive")
    if Path(out).resolve().is_relative_to(Path(raw_dir).resolve()):
        raise InputError(f"--out {out}: is inside the corpus folder {raw_dir}; write the prepared data elsewhere "
                         "(the corpus files stay as they are)")
    splits = {"train": args.train_split, "valid": args.valid_split, "test": args.test_split}
    langs = (args.src, args.tgt)
    seg = {args.src: args.src_seg, args.tgt: args.tgt_seg}
    spm_vocab = {args.src: args.src_spm_vocab, args.tgt: args.tgt_spm_vocab}
    steps = StepRunner(out, overwrite=args.overwrite)

    def path(kind: str, split: str, lang: str) -> Path:
        return out / kind / f"{split}.{lang}"

    # 1. Raw text: read, check, keep a whitespace-normalised copy.
    sources = [find_raw_file(raw_dir, stem, lang) for stem in splits.values() for lang in langs]

    def copy_raw():
        for split, stem in splits.items():
            sides = read_parallel(raw_dir, stem, args.src, args.tgt, args.max_lines)
            for lang, lines in zip(langs, sides):
                check_line_lengths(find_raw_file(raw_dir, stem, lang), lines, args.max_words_per_line)
                write_lines(path("raw", split, lang), [" ".join(line.split()) for line in lines])

    steps.run(
        "raw",
        [path("raw", s, l) for s in splits for l in langs],
        {"splits": splits, "max_lines": args.max_lines},
        copy_raw,
        inputs=sources,
    )

    # 2. Moses tokenization, each language.
    for lang in langs:
        def tokenize(lang=lang):
            for split in splits:
                lines = read_lines(path("raw", split, lang))
                write_lines(path("tok", split, lang), moses_tokenize(lines, lang, args.normalize_punct))

        steps.run(
            f"tokenize.{lang}",
            [path("tok", s, lang) for s in splits],
            {"lang": lang, "normalize_punct": args.normalize_punct},
            tokenize,
            inputs=[path("raw", s, lang) for s in splits],
        )

    # 3. Segmentation: Moses words as they are, or SentencePiece on the raw text.
    for lang in langs:
        model_prefix = out / "spm" / f"spm.{lang}"
        if seg[lang] == "spm":
            steps.run(
                f"spm.{lang}",
                [Path(f"{model_prefix}.model"), Path(f"{model_prefix}.vocab")],
                {"vocab_size": spm_vocab[lang], "model_type": args.spm_model_type, "seed": args.seed},
                lambda lang=lang, prefix=model_prefix: train_sentencepiece(
                    path("raw", "train", lang), prefix, spm_vocab[lang], args.spm_model_type, args.seed
                ),
                inputs=[path("raw", "train", lang)],
            )

        def segment(lang=lang, prefix=model_prefix):
            for split in splits:
                if seg[lang] == "spm":
                    lines = sentencepiece_encode(read_lines(path("raw", split, lang)), Path(f"{prefix}.model"))
                else:
                    lines = read_lines(path("tok", split, lang))
                write_lines(path("text", split, lang), lines)

        seg_inputs = [path("tok" if seg[lang] == "words" else "raw", s, lang) for s in splits]
        if seg[lang] == "spm":
            seg_inputs.append(Path(f"{model_prefix}.model"))
        steps.run(
            f"segment.{lang}",
            [path("text", s, lang) for s in splits],
            {"segmentation": seg[lang]},
            segment,
            inputs=seg_inputs,
        )

    # 4. fairseq-preprocess.
    bin_dir = out / "bin"
    pair = f"{args.src}-{args.tgt}"
    bin_outputs = [bin_dir / f"dict.{lang}.txt" for lang in langs] + [
        bin_dir / f"{split}.{pair}.{lang}.{ext}" for split in splits for lang in langs for ext in ("bin", "idx")
    ]
    vocab_settings = {
        "thresholdsrc": args.src_min_freq,
        "thresholdtgt": args.tgt_min_freq,
        "nwordssrc": args.src_vocab_size,
        "nwordstgt": args.tgt_vocab_size,
    }
    steps.run(
        "binarize",
        bin_outputs,
        vocab_settings,
        lambda: binarize(out, bin_dir, args.src, args.tgt, vocab_settings, args.workers),
        inputs=[path("text", s, l) for s in splits for l in langs],
    )

    # 5. The manifest other commands read.
    manifest = {
        "src": args.src,
        "tgt": args.tgt,
        "raw_dir": str(Path(raw_dir).resolve()),
        "splits": splits,
        "segmentation": seg,
        "spm_models": {lang: f"spm/spm.{lang}.model" for lang in langs if seg[lang] == "spm"},
        "lines": {split: len(read_lines(path("raw", split, args.src))) for split in splits},
        "dict_sizes": {lang: _dict_size(bin_dir / f"dict.{lang}.txt") for lang in langs},
        "vocab": vocab_settings,
        "normalize_punct": args.normalize_punct,
    }
    manifest_path = out / "prepare.json"
    steps.run(
        "manifest",
        [manifest_path],
        manifest,
        lambda: manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8"),
    )
    logger.info(
        "prepared %s in %s: %s lines; dictionary sizes %s",
        pair, out, manifest["lines"], manifest["dict_sizes"],
    )
    return out


def check_line_lengths(path: Path, lines: List[str], limit: int) -> None:
    for lineno, line in enumerate(lines, start=1):
        words = len(line.split())
        if words > limit:
            raise InputError(f"{path}: line {lineno} has {words} words, more than --max-words-per-line {limit}; "
                             "split or remove it")


def _dict_size(path: Path) -> int:
    """Symbols in a fairseq dictionary file plus its 4 specials."""
    with open(path, encoding="utf-8") as handle:
        return 4 + sum(1 for _ in handle)


def binarize(out: Path, bin_dir: Path, src: str, tgt: str, vocab: dict, workers: int) -> None:
    """Run fairseq-preprocess on ``out/text``; its log goes to ``bin/preprocess.log``.

    It writes into a scratch folder whose files are then moved into ``bin_dir``: fairseq-preprocess
    refuses a folder that already has dictionaries, which a killed earlier run leaves behind."""
    scratch = out / ".bin.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    command = [
        sys.executable, "-m", "fairseq_cli.preprocess",
        "--source-lang", src, "--target-lang", tgt,
        "--trainpref", str(out / "text" / "train"),
        "--validpref", str(out / "text" / "valid"),
        "--testpref", str(out / "text" / "test"),
        "--destdir", str(scratch),
        "--workers", str(workers),
    ]
    for key, value in vocab.items():
        command += [f"--{key}", str(value)]
    logger.info("running %s", " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise InputError(f"fairseq-preprocess failed for {out / 'text'}:\n{tail}")
    bin_dir.mkdir(parents=True, exist_ok=True)
    for made in sorted(scratch.iterdir()):
        os.replace(made, bin_dir / made.name)
    scratch.rmdir()


def main(argv: Optional[List[str]] = None) -> None:
    prepare(parse_args(build_parser(), argv))


def cli_main() -> None:
    run_main(main, "fairseq-vmf-prepare")


if __name__ == "__main__":
    cli_main()
