#!/usr/bin/env python
"""Replace each ``<unk>`` of fairseq-generate's hypotheses by the source word it attends to most.

fairseq 0.12's own ``--replace-unk`` cannot run here: it asserts ``--dataset-impl raw``, and
its ``replace_unk`` then indexes the hypothesis alignment by target position, which the plain
generator leaves empty and the alignment generator fills with (source, target) pairs, so it
fails on the first ``<unk>`` either way. This does the same replacement (copy the aligned
source word; no translation dictionary) from the output of ``fairseq-generate
--print-alignment hard``: ``A-ID`` lines of ``source-target`` token positions, read with the
source text fairseq-preprocess binarized (``DATA/text/SPLIT.SRC``), so that source words
outside the source dictionary are copied as written (with a SentencePiece source, pieces).

  usage: scripts/replace_unk.py --generate-log OUT.generate.log --source DATA/text/test.en > OUT.tok
"""

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Tuple

UNK = "<unk>"
LINE = re.compile(r"^([HA])-(\d+)\t(.*)$")


def read_generate_log(path: Path) -> Tuple[Dict[int, List[str]], Dict[int, Dict[int, int]]]:
    """Hypothesis tokens and, per sentence id, the aligned source position of each target position."""
    hyps, alignments = {}, {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = LINE.match(line)
        if not match:
            continue
        kind, sent_id, rest = match.group(1), int(match.group(2)), match.group(3)
        if kind == "H":
            hyps[sent_id] = rest.split("\t", 1)[1].split() if "\t" in rest else []
        else:
            pairs = {}
            for pair in rest.split():
                src, _, tgt = pair.partition("-")
                pairs[int(tgt)] = int(src)
            alignments[sent_id] = pairs
    if not hyps:
        raise SystemExit(f"replace_unk: no H- lines in {path}")
    missing = sorted(set(hyps) - set(alignments))
    if missing:
        raise SystemExit(f"replace_unk: {path} has no A- line for sentence {missing[0]} "
                         "(run fairseq-generate with --print-alignment hard)")
    return hyps, alignments


def replace(hyp: List[str], alignment: Dict[int, int], source: List[str]) -> List[str]:
    """The hypothesis with each aligned <unk> replaced by its source word (unaligned ones kept)."""
    out = []
    for position, token in enumerate(hyp):
        src = alignment.get(position)
        out.append(source[src] if token == UNK and src is not None and src < len(source) else token)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generate-log", type=Path, required=True, help="fairseq-generate's stdout")
    parser.add_argument("--source", type=Path, required=True,
                        help="the source text of the split as binarized (DATA/text/SPLIT.SRC)")
    args = parser.parse_args(argv)
    sources = [line.split() for line in args.source.read_text(encoding="utf-8").splitlines()]
    hyps, alignments = read_generate_log(args.generate_log)
    if max(hyps) >= len(sources):
        raise SystemExit(f"replace_unk: sentence {max(hyps)} of {args.generate_log} is beyond the "
                         f"{len(sources)} lines of {args.source}")
    for sent_id in sorted(hyps):
        sys.stdout.write(" ".join(replace(hyps[sent_id], alignments[sent_id], sources[sent_id])) + "\n")


if __name__ == "__main__":
    main()
