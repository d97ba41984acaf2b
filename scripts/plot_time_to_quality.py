#!/usr/bin/env python
"""Validation BLEU against updates and training time, from fairseq-train's own logs.

Reads the `valid | epoch ... | bleu X` lines that `fairseq-train --eval-bleu` writes
(scripts/train.sh logs them to SAVE_DIR/train.log) and their timestamps; time is counted
from the log's first line, so it includes validation and checkpointing, as a user waits.

    python scripts/plot_time_to_quality.py --out results/time_to_quality_en-fr \\
        vmf=checkpoints/en-fr.vmf/train.log softmax=checkpoints/en-fr.softmax/train.log

Wall clock from runs made on different days is not comparable (the same command runs up to
2x slower on some days). ``--cost NAME=S_PER_UPDATE`` for every system turns the time axis
into CPU time at per-update costs measured side by side in one run (scripts/per_update_cost.sh
or seed_table.sh COST_UPDATES=N): each validation point's updates x that cost, plus the
run's own validation and checkpoint time rescaled by the same day factor. ``--reference
NAME`` adds how long each system takes to first reach NAME's best validation BLEU.
``--after NAME=PRIOR`` starts NAME's clock where PRIOR's training ended, for a system that
needs another training first (the continuous model on the softmax twin's output embeddings).
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
TRAIN = re.compile(r"\| train \| epoch (\d+) \|.*?\| num_updates (\d+) \|.*?\| train_wall ([0-9.]+) \| wall ([0-9.]+)")


def log_lines(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open  # committed logs are gzipped
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        return handle.read().splitlines()


def read_log(path: Path):
    """[(minutes since the log's first line, epoch, updates, bleu)] of one training log."""
    start, points = None, []
    for line in log_lines(path):
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


def epoch_seconds(path: Path):
    """{epoch: (updates, training seconds, other seconds)} from fairseq's end-of-epoch lines:
    ``train_wall`` is the epoch's time in training steps, ``wall`` the run's running total, so
    the rest of the epoch's time went to validation and checkpoints."""
    epochs, previous_wall = {}, 0.0
    for line in log_lines(path):
        train = TRAIN.search(line)
        if train:
            epoch, updates, train_wall, wall = int(train.group(1)), int(train.group(2)), *map(float, train.group(3, 4))
            elapsed = wall - previous_wall if wall >= previous_wall else wall  # a resumed run restarts the clock
            epochs[epoch] = (updates, train_wall, max(0.0, elapsed - train_wall))
            previous_wall = wall
    return epochs


def cpu_minutes(points, epochs, s_per_update):
    """Each validation point's training time at a side-by-side per-update cost: updates x cost,
    plus the validation and checkpoint seconds of the epochs up to it, rescaled by the run's
    day factor (the side-by-side cost over the run's own training seconds per update)."""
    if not epochs:
        raise ValueError("no end-of-epoch 'train | epoch ... | train_wall ... | wall ...' lines")
    last = max(epochs)
    own_cost = sum(seconds for _, seconds, _ in epochs.values()) / epochs[last][0]
    day_factor = s_per_update / own_cost
    minutes = []
    for _, epoch, updates, _ in points:
        other = sum(rest for e, (_, _, rest) in epochs.items() if e <= epoch)
        minutes.append((updates * s_per_update + other * day_factor) / 60)
    return minutes


def time_to_reach(times, points, bleu):
    """(minutes, updates) of the first validation point at or above ``bleu``, or None."""
    return next(((t, p[2]) for t, p in zip(times, points) if p[3] >= bleu), None)


def reference_table(reference, curves, times, below=0.0):
    """Markdown lines: each system's time to first reach ``reference``'s best validation BLEU
    minus ``below``, and that time over the reference's own."""
    best = max(curves[reference], key=lambda p: p[3])
    goal = best[3] - below
    ref_time, ref_updates = time_to_reach(times[reference], curves[reference], goal)
    what = f"{reference}'s best validation BLEU, {best[3]:.2f}" + (f", minus {below:g} ({goal:.2f})" if below else "")
    lines = [f"Time to first reach {what} ({reference}: {ref_updates} updates, {ref_time:.1f} minutes):", "",
             "| system | updates | minutes | vs the reference's minutes | best valid BLEU |", "| --- | --- | --- | --- | --- |"]
    for name, points in curves.items():
        reached, top = time_to_reach(times[name], points, goal), max(p[3] for p in points)
        cells = ("not reached", "-", "-") if reached is None else (
            str(reached[1]), f"{reached[0]:.1f}", f"{reached[0] / ref_time:.2f}x")
        lines.append(f"| {name} | {' | '.join(cells)} | {top:.2f} |")
    return lines


def name_value(parser, item, what):
    name, sep, value = item.partition("=")
    if not sep or not name or not value:
        parser.error(f"{item!r}: expected NAME={what}")
    return name, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logs", nargs="+", metavar="NAME=TRAIN_LOG", help="a system's name and its train.log")
    parser.add_argument("--out", type=Path, required=True, help="output stem: writes STEM.json, STEM.md, STEM.png")
    parser.add_argument("--cost", action="append", default=[], metavar="NAME=S_PER_UPDATE",
                        help="a system's seconds per update measured side by side with the others' (all or none)")
    parser.add_argument("--reference", action="append", default=[], metavar="NAME",
                        help="tabulate each system's time to reach this system's best validation BLEU")
    parser.add_argument("--below", action="append", type=float, default=[], metavar="BLEU",
                        help="with --reference: also the time to reach the reference's best minus BLEU")
    parser.add_argument("--after", action="append", default=[], metavar="NAME=PRIOR",
                        help="NAME trains after PRIOR (another of the logs, e.g. the run its table comes "
                             "from): PRIOR's time to its last validation is added to NAME's times")
    args = parser.parse_args(argv)
    curves, paths = {}, {}
    for item in args.logs:
        name, path = name_value(parser, item, "TRAIN_LOG")
        path = Path(path)
        if not path.is_file():
            parser.error(f"{name}: no log file {path}")
        points = read_log(path)
        if not points:
            parser.error(f"{name}: {path} has no validation BLEU lines (train with --eval-bleu)")
        curves[name], paths[name] = points, path
    costs = {}
    for item in args.cost:
        name, value = name_value(parser, item, "S_PER_UPDATE")
        if name not in curves:
            parser.error(f"--cost {item}: no system named {name!r} among the logs")
        try:
            costs[name] = float(value)
        except ValueError:
            costs[name] = float("nan")  # not a number: refused below like a negative one
        if not costs[name] > 0:
            parser.error(f"--cost {item}: seconds per update must be a positive number")
    if costs and set(costs) != set(curves):
        parser.error(f"--cost is missing for {', '.join(sorted(set(curves) - set(costs)))}: give every system's "
                     "side-by-side cost, or none")
    if args.below and not args.reference:
        parser.error("--below needs --reference")
    if any(below <= 0 for below in args.below):
        parser.error("--below: give a positive number of BLEU points")
    for name in args.reference:
        if name not in curves:
            parser.error(f"--reference {name}: no system of that name among the logs")
    priors = {}
    for item in args.after:
        name, prior = name_value(parser, item, "PRIOR")
        for what in (name, prior):
            if what not in curves:
                parser.error(f"--after {item}: no system named {what!r} among the logs")
        if name == prior or name in priors:
            parser.error(f"--after {item}: give each system at most one other system to follow")
        priors[name] = prior
    if set(priors) & set(priors.values()):
        parser.error("--after: a system that follows another cannot itself be followed (one step only)")
    times = {name: [p[0] for p in points] for name, points in curves.items()}
    time_label = "wall-clock training time (minutes, incl. validation)"
    if costs:
        for name, points in curves.items():
            try:
                times[name] = cpu_minutes(points, epoch_seconds(paths[name]), costs[name])
            except ValueError as err:
                parser.error(f"{name}: {paths[name]}: {err}")
        time_label = "CPU minutes at the side-by-side cost per update (incl. validation)"
    for name, prior in priors.items():  # the priors' own times are final here: they follow no one
        times[name] = [times[prior][-1] + t for t in times[name]]
    kind = "cpu_minutes" if costs else "minutes"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(
        {name: [{kind: round(t, 2), "epoch": e, "updates": u, "bleu": b}
                for t, (_, e, u, b) in zip(times[name], points)] for name, points in curves.items()}, indent=1) + "\n")
    lines = [f"| system | epoch | updates | {kind.replace('_', ' ')} | valid BLEU |", "| --- | --- | --- | --- | --- |"]
    for name, points in curves.items():
        lines += [f"| {name} | {e} | {u} | {t:.1f} | {b:.2f} |" for t, (_, e, u, b) in zip(times[name], points)]
    for name, prior in priors.items():
        lines += ["", f"{name}: its times include {prior}'s {times[prior][-1]:.1f} minutes, trained first."]
    for name in args.reference:
        for below in [0.0] + args.below:
            lines += [""] + reference_table(name, curves, times, below)
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
        by_time.plot(times[name], [p[3] for p in points], marker="o", markersize=3, label=name)
    by_updates.set_xlabel("updates")
    by_time.set_xlabel(time_label)
    by_updates.set_ylabel("validation BLEU (greedy, sacreBLEU)")
    for ax in (by_updates, by_time):
        ax.grid(True, alpha=0.3)
    by_time.legend()
    fig.tight_layout()
    fig.savefig(args.out.with_suffix(".png"), dpi=110)
    print(args.out.with_suffix(".md").read_text(), end="")


if __name__ == "__main__":
    main()
