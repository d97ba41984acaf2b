#!/usr/bin/env python
"""Tabulate a lever screen (scripts/lever_screen.sh): valid BLEU of each lever at equal updates.

    python scripts/lever_table.py checkpoints/screen.en-fr.softmax [--at 484 726 968]

Each sub-folder of the screen folder is one lever with its ``train.log`` (or ``train.log.gz``), and
each ``LEVER.train.log.gz`` file is one lever too (the committed logs of results/quality);
the table gives the validation BLEU logged at each of the ``--at`` update counts (the epoch
ending there; ``-`` where the run did not get that far), the best logged value with its
updates, and the updates reached. Rows are sorted by the BLEU at the last ``--at`` count.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plot_time_to_quality import read_log  # noqa: E402  (a sibling script)


def lever_row(points, at):
    """{'at': [bleu or None per count], 'best': (bleu, updates), 'reached': updates} of one curve."""
    by_updates = {updates: bleu for _, _, updates, bleu in points}
    best_bleu, best_updates = max((bleu, updates) for _, _, updates, bleu in points)
    return {"at": [by_updates.get(count) for count in at], "best": (best_bleu, best_updates),
            "reached": max(by_updates)}


def table(screen: Path, at):
    logs = {}  # lever -> its log: LEVER/train.log(.gz) (a screen's folder) or LEVER.train.log.gz (committed)
    for path in sorted(screen.iterdir()):
        if path.is_dir():
            log = next((path / name for name in ("train.log", "train.log.gz") if (path / name).is_file()), None)
            if log is not None:
                logs[path.name] = log
        elif path.name.endswith(".train.log.gz"):
            logs[path.name[:-len(".train.log.gz")]] = path
    rows = []
    for lever, log in logs.items():
        points = read_log(log)
        if points:
            rows.append((lever, lever_row(points, at)))
    if not rows:
        sys.exit(f"lever_table.py: {screen}: no lever folder with a train.log holding validation BLEU")
    rows.sort(key=lambda item: -1 if item[1]["at"][-1] is None else item[1]["at"][-1], reverse=True)
    fmt = lambda value: "-" if value is None else f"{value:.2f}"  # noqa: E731
    lines = ["| lever | " + " | ".join(f"valid BLEU @{count}" for count in at) + " | best (updates) | reached |",
             "|---" * (len(at) + 3) + "|"]
    for name, row in rows:
        cells = " | ".join(fmt(value) for value in row["at"])
        lines.append(f"| {name} | {cells} | {row['best'][0]:.2f} ({row['best'][1]}) | {row['reached']} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("screen", type=Path, help="the screen folder (one sub-folder per lever)")
    parser.add_argument("--at", type=int, nargs="+", default=[484, 726, 968], help="update counts to compare at")
    args = parser.parse_args(argv)
    if not args.screen.is_dir():
        parser.error(f"{args.screen}: no such screen folder")
    print(table(args.screen, args.at))


if __name__ == "__main__":
    main()
