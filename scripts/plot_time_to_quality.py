#!/usr/bin/env python
"""Validation BLEU against updates and wall-clock training time, from fairseq-train's own logs.

Reads the `valid | epoch ... | bleu X` lines that `fairseq-train --eval-bleu` writes
(scripts/train.sh logs them to SAVE_DIR/train.log) and their timestamps; time is counted
from the log's first line, so it includes validation and checkpointing, as a user waits.

    python scripts/plot_time_to_quality.py --out results/time_to_quality_en-fr \\
        vmf=checkpoints/en-fr.vmf/train.log softmax=checkpoints/en-fr.softmax/train.log
"""

import argparse
import gzip
import json
import re
import sys
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \| ")
VALID = re.compile(r"\| valid \| epoch (\d+) \|.*?\| bleu ([0-9.]+) \|.*?\| num_updates (\d+)")


def read_log(path: Path):
    """[(minutes since the log's first line, epoch, updates, bleu)] of one training log."""
    start, points = None, []
    opener = gzip.open if path.suffix == ".gz" else open  # committed logs are gzipped
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        stamp = STAMP.match(line)
        if not stamp:
            continue
        when = datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S")
        if start is None:
            start = when
        valid = VALID.search(line)
        if valid:
            points.append(((when - start).total_seconds() / 60, int(valid.group(1)), int(valid.group(3)),
                           float(valid.group(2))))
    return points


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logs", nargs="+", metavar="NAME=TRAIN_LOG", help="a system's name and its train.log")
    parser.add_argument("--out", type=Path, required=True, help="output stem: writes STEM.json, STEM.md, STEM.png")
    args = parser.parse_args(argv)
    curves = {}
    for item in args.logs:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            parser.error(f"{item!r}: expected NAME=TRAIN_LOG")
        path = Path(path)
        if not path.is_file():
            parser.error(f"{name}: no log file {path}")
        points = read_log(path)
        if not points:
            parser.error(f"{name}: {path} has no validation BLEU lines (train with --eval-bleu)")
        curves[name] = points
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(
        {name: [dict(minutes=round(m, 2), epoch=e, updates=u, bleu=b) for m, e, u, b in points]
         for name, points in curves.items()}, indent=1) + "\n")
    lines = ["| system | epoch | updates | minutes | valid BLEU |", "| --- | --- | --- | --- | --- |"]
    for name, points in curves.items():
        lines += [f"| {name} | {e} | {u} | {m:.1f} | {b:.2f} |" for m, e, u, b in points]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_time_to_quality.py: matplotlib is missing, no plot (pip install 'fairseq_vmf[bench]')",
              file=sys.stderr)
        return
    fig, (by_updates, by_time) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for name, points in curves.items():
        by_updates.plot([p[2] for p in points], [p[3] for p in points], marker="o", markersize=3, label=name)
        by_time.plot([p[0] for p in points], [p[3] for p in points], marker="o", markersize=3, label=name)
    by_updates.set_xlabel("updates")
    by_time.set_xlabel("wall-clock training time (minutes, incl. validation)")
    by_updates.set_ylabel("validation BLEU (greedy, sacreBLEU)")
    for ax in (by_updates, by_time):
        ax.grid(True, alpha=0.3)
    by_time.legend()
    fig.tight_layout()
    fig.savefig(args.out.with_suffix(".png"), dpi=110)
    print(args.out.with_suffix(".md").read_text(), end="")


if __name__ == "__main__":
    main()
