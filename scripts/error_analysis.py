#!/usr/bin/env python
"""How "meaningful" are a system's wrong words? (the seed paper's claim, made measurable)

The paper says continuous-output models make errors that "lie in a subspace of the vector
space of the reference translations". Measured here per sentence, on lower-cased Moses
tokens without punctuation:

* error words   = the hypothesis' words not matched in the reference (multiset difference);
* missed words  = the reference's words not matched in the hypothesis;
* for each error word with at least one missed word beside it, its similarity to the
  closest missed word, in two ways that no system was trained on:
  - ``cos``: cosine in a word space trained for this analysis only (fastText CBOW, whole
    lower-cased words, 100-d, centred, on the target side of train; the continuous systems
    use skip-gram 300-d tables with subwords), words without a vector skipped;
  - ``chrf``: chrF (character n-grams) between the two words.
  (± is the half-width of a normal 95% interval of the mean over error words.)
* ``chance``: the same similarities with the missed words of another sentence (a fixed
  derangement), which is what an unrelated wrong word scores.

The claim holds for a system when its error words are closer to the missed reference words
than another system's are, and well above chance.

  usage: scripts/error_analysis.py --ref REF --lang fr --train-text TRAIN.fr \\
             --hyp NAME=HYP [--hyp NAME=HYP ...] [--out OUT.md]
"""

import argparse
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from markdown_json import emit_table



def content_tokens(line: str, tokenize: Callable[[str], List[str]]) -> List[str]:
    """Lower-cased tokens that contain a letter or digit (punctuation is not a word error)."""
    return [t.lower() for t in tokenize(line)
            if any(unicodedata.category(c)[0] in "LN" for c in t)]


def error_and_missed_words(hyp: Sequence[str], ref: Sequence[str]):
    """(hypothesis words without a match in the reference, reference words without one)."""
    hyp_counts, ref_counts = Counter(hyp), Counter(ref)
    return list((hyp_counts - ref_counts).elements()), list((ref_counts - hyp_counts).elements())


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def closest_similarities(errors, missed, similarity: Callable[[str, str], Optional[float]]) -> List[float]:
    """For each error word, the highest similarity to any missed word (None pairs skipped)."""
    found = []
    for error in errors:
        scores = [s for s in (similarity(error, word) for word in missed) if s is not None]
        if scores:
            found.append(max(scores))
    return found


def word_chrf(a: str, b: str) -> float:
    import sacrebleu

    return sacrebleu.sentence_chrf(a, [b]).score / 100.0


def measure(hyp_lines, ref_lines, tokenize, vectors: Dict[str, np.ndarray]) -> dict:
    """Mean closest similarity of error words to missed words, own sentence and chance."""
    if len(hyp_lines) != len(ref_lines):
        raise SystemExit(f"error_analysis: {len(hyp_lines)} hypotheses but {len(ref_lines)} references")
    hyps = [content_tokens(line, tokenize) for line in hyp_lines]
    refs = [content_tokens(line, tokenize) for line in ref_lines]
    n = len(refs)
    other = [(i + n // 2) % n for i in range(n)]  # a derangement: never the sentence itself

    def vector_cos(a, b):
        if a in vectors and b in vectors:
            return cosine(vectors[a], vectors[b])
        return None

    result = {"sentences": n, "hyp_words": sum(map(len, hyps)), "error_words": 0}
    sims = {key: [] for key in ("cos", "chrf", "cos_chance", "chrf_chance")}
    for i, (hyp, ref) in enumerate(zip(hyps, refs)):
        errors, missed = error_and_missed_words(hyp, ref)
        result["error_words"] += len(errors)
        _, missed_elsewhere = error_and_missed_words(hyps[other[i]], refs[other[i]])
        sims["cos"] += closest_similarities(errors, missed, vector_cos)
        sims["chrf"] += closest_similarities(errors, missed, word_chrf)
        sims["cos_chance"] += closest_similarities(errors, missed_elsewhere, vector_cos)
        sims["chrf_chance"] += closest_similarities(errors, missed_elsewhere, word_chrf)
    for key, values in sims.items():
        result[key] = float(np.mean(values)) if values else float("nan")
        # half-width of a normal 95% interval of the mean
        result[key + "_ci95"] = float(1.96 * np.std(values) / np.sqrt(len(values))) if values else float("nan")
        result[key + "_pairs"] = len(values)
    result["cos_share_above_0.5"] = float(np.mean(np.array(sims["cos"]) > 0.5)) if sims["cos"] else float("nan")
    return result


def train_word_space(train_text: Path, cache: Path) -> Dict[str, np.ndarray]:
    """fastText CBOW, whole lower-cased words, 100-d, one thread (deterministic), centred on
    the mean vector (small-corpus spaces put every word in one cone: uncentred cosines of
    unrelated words are high); cached as .npz."""
    if not cache.exists():
        import tempfile

        import fasttext

        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt") as lowered:
            lowered.write(train_text.read_text(encoding="utf-8").lower())
            lowered.flush()
            model = fasttext.train_unsupervised(lowered.name, model="cbow", dim=100, epoch=10, minCount=1,
                                                minn=0, maxn=0, bucket=0, thread=1, verbose=0)
        words = model.get_words()
        matrix = np.stack([model.get_word_vector(w) for w in words])
        np.savez(cache, words=np.array(words), vectors=matrix - matrix.mean(axis=0))
    stored = np.load(cache)
    return dict(zip(stored["words"].tolist(), stored["vectors"]))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", type=Path, required=True)
    parser.add_argument("--lang", required=True)
    parser.add_argument("--train-text", type=Path, required=True,
                        help="tokenized target side of train (the word space is trained on it)")
    parser.add_argument("--hyp", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--space-cache", type=Path, help="where the word space is kept (.npz)")
    parser.add_argument("--out", type=Path, help="Markdown table to write (and .json beside it)")
    args = parser.parse_args(argv)
    from sacremoses import MosesTokenizer

    tokenizer = MosesTokenizer(lang=args.lang)
    tokenize = lambda line: tokenizer.tokenize(line, escape=False)  # noqa: E731
    cache = args.space_cache or args.train_text.with_suffix(".cbow100.npz")
    vectors = train_word_space(args.train_text, cache)
    refs = args.ref.read_text(encoding="utf-8").splitlines()
    rows = {}
    for spec in args.hyp:
        name, _, path = spec.partition("=")
        rows[name] = measure(Path(path).read_text(encoding="utf-8").splitlines(), refs, tokenize, vectors)
        rows[name]["hyp"] = path
    lines = ["| system | error words / hyp words | cos to closest missed word | (chance) | share cos > 0.5 "
             "| chrF to closest missed word | (chance) |", "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['error_words']} / {r['hyp_words']} | {r['cos']:.3f} ± {r['cos_ci95']:.3f} "
                     f"| {r['cos_chance']:.3f} | {r['cos_share_above_0.5']:.3f} | {r['chrf']:.3f} ± {r['chrf_ci95']:.3f} "
                     f"| {r['chrf_chance']:.3f} |")
    emit_table(lines, rows, args.out)


if __name__ == "__main__":
    main()
