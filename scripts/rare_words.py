#!/usr/bin/env python
"""Rare words through a capped target vocabulary: what each system writes for them.

For each system's tokenized test output (``translate.sh``'s ``STEM.tok``, BLEU from
``STEM.bleu.json``) against the tokenized references and the capped target dictionary:

* ``<unk> rate``: share of output tokens that are ``<unk>``;
* ``out-of-cap outputs``: share of output tokens outside the capped dictionary (rows of an
  extended table, or source words copied by ``--replace-unk``), and their precision: the
  share that match a reference token of the same sentence (clipped counts, as BLEU's
  unigrams);
* ``out-of-cap recall``: share of the reference tokens outside the capped dictionary that
  the output contains (clipped).

  usage: scripts/rare_words.py --ref-tok REF.tok --dict dict.fr.txt --hyp NAME=STEM [...] [--out OUT.md]
"""

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Set

from markdown_json import emit_table

UNK = "<unk>"


def read_dictionary_words(path: Path) -> Set[str]:
    """Symbols of a fairseq dictionary file (``word count`` per line, specials implicit)."""
    return {line.rsplit(" ", 1)[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def rare_word_counts(hyps: Sequence[List[str]], refs: Sequence[List[str]], capped: Set[str]) -> Dict[str, int]:
    """Token counts behind the rates (see the module docstring)."""
    if len(hyps) != len(refs):
        raise SystemExit(f"rare_words: {len(hyps)} hypotheses but {len(refs)} references")
    counts = Counter()
    for hyp, ref in zip(hyps, refs):
        hyp_out = Counter(t for t in hyp if t not in capped and t != UNK)
        ref_out = Counter(t for t in ref if t not in capped)
        ref_all = Counter(ref)
        counts["tokens"] += len(hyp)
        counts["unk"] += sum(t == UNK for t in hyp)
        counts["out_of_cap_outputs"] += sum(hyp_out.values())
        counts["out_of_cap_outputs_correct"] += sum((hyp_out & ref_all).values())
        counts["out_of_cap_references"] += sum(ref_out.values())
        counts["out_of_cap_references_found"] += sum((ref_out & Counter(hyp)).values())
    return dict(counts)


def rates(counts: Dict[str, int]) -> Dict[str, float]:
    def share(a, b):
        return counts.get(a, 0) / counts[b] if counts.get(b) else float("nan")

    return {
        "unk_rate": share("unk", "tokens"),
        "out_of_cap_rate": share("out_of_cap_outputs", "tokens"),
        "out_of_cap_precision": share("out_of_cap_outputs_correct", "out_of_cap_outputs"),
        "out_of_cap_recall": share("out_of_cap_references_found", "out_of_cap_references"),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref-tok", type=Path, required=True, help="tokenized references, one per line")
    parser.add_argument("--dict", type=Path, required=True, help="the capped target dictionary (dict.TGT.txt)")
    parser.add_argument("--hyp", action="append", required=True, metavar="NAME=STEM",
                        help="translate.sh's output stem: STEM.tok and STEM.bleu.json are read")
    parser.add_argument("--out", type=Path, help="Markdown table to write (and .json beside it)")
    args = parser.parse_args(argv)
    capped = read_dictionary_words(args.dict)
    refs = [line.split() for line in args.ref_tok.read_text(encoding="utf-8").splitlines()]
    rows = {}
    for spec in args.hyp:
        name, _, stem = spec.partition("=")
        hyps = [line.split() for line in Path(stem + ".tok").read_text(encoding="utf-8").splitlines()]
        counts = rare_word_counts(hyps, refs, capped)
        score = json.loads(Path(stem + ".bleu.json").read_text())
        rows[name] = {"bleu": score["score"], "signature": score.get("signature"), **counts, **rates(counts),
                      "stem": stem}
    lines = ["| system | BLEU | <unk> rate | out-of-cap outputs | their precision | out-of-cap recall |",
             "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['bleu']:.2f} | {100 * r['unk_rate']:.2f}% | {r['out_of_cap_outputs']} "
                     f"({100 * r['out_of_cap_rate']:.2f}%) | {100 * r['out_of_cap_precision']:.1f}% "
                     f"| {100 * r['out_of_cap_recall']:.1f}% of {r['out_of_cap_references']} |")
    signatures = sorted({r["signature"] for r in rows.values() if r["signature"]})
    if signatures:  # sacreBLEU's own signature of every BLEU in the table
        lines += ["", "BLEU: " + "; ".join(signatures)]
    emit_table(lines, rows, args.out)


if __name__ == "__main__":
    main()
