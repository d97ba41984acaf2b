#!/usr/bin/env python
"""Build results/seed_table.{md,json} from the rows scripts/seed_table.sh recorded.

    python scripts/seed_table_report.py [--results results/seed_table]

One line per row of the seed paper's table (in its order), per direction the test BLEU
greedy and beam 5, chrF (beam 5) and the updates of the decoded checkpoint, the trainable
parameters logged by fairseq-train, and the paper's BLEU for the shape (other data:
compare rankings, not values). Every score is re-computed from the committed hypotheses
by ``quality_results.py table`` (which fails on a mismatch); this script only arranges.
Training CPU time is the row's updates times its seconds per update, measured side by side
for every row by ``COST_UPDATES=80 scripts/seed_table.sh`` (kept in per_update_cost.json by
this script's ``record-cost``): never the wall clock of runs made on different days.
Below the table, beam-5 BLEU at a glance: each of the paper's rows ranked in its direction,
ours and the paper's, and Spearman's rank correlation between the two orders.
Then each cell's valid BLEU gained in its last fifth of updates (from its training log), to
show which cells were still rising at their budget; ``late-gain LOG`` prints that gain for one
training log (scripts/seed_table.sh uses it to decide whether a row trains on to its next stage).
"""

import argparse
import gzip
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plot_time_to_quality import VALID  # noqa: E402  (a sibling script: fairseq's valid lines)

REPO = Path(__file__).resolve().parents[1]
DIRECTIONS = ("fr-en", "de-en", "en-fr")
# row: (embeddings, tied, source -> target, loss, paper BLEU fr-en, de-en, en-fr)
ROWS = {
    "ce_word_word": ("-", "no", "word->word", "CE", (31.0, 24.7, 29.3)),
    "ce_word_bpe": ("-", "no", "word->BPE", "CE", (29.1, 24.1, 29.8)),
    "ce_bpe_bpe": ("-", "no", "BPE->BPE", "CE", (31.4, 25.8, 31.0)),
    "w2v_l2": ("word2vec", "no", "word->emb", "L2", (27.2, 19.4, 26.4)),
    "w2v_cosine": ("word2vec", "no", "word->emb", "cosine", (29.1, 21.9, 26.6)),
    "w2v_max_margin": ("word2vec", "no", "word->emb", "max-margin", (29.6, 21.4, 26.7)),
    "ft_max_margin": ("fastText", "no", "word->emb", "max-margin", (31.0, 25.0, 29.0)),
    "ft_max_margin_tied": ("fastText", "yes", "word->emb", "max-margin", (32.1, 25.0, 31.0)),
    "w2v_vmf_reg1": ("word2vec", "no", "word->emb", "NLLvMF reg1", (29.5, 22.7, 26.6)),
    "w2v_vmf_reg12": ("word2vec", "no", "word->emb", "NLLvMF reg1+reg2", (29.7, 21.6, 26.7)),
    "w2v_vmf_reg12_tied": ("word2vec", "yes", "word->emb", "NLLvMF reg1+reg2", (29.7, 22.2, 27.5)),
    "ft_vmf_reg12": ("fastText", "no", "word->emb", "NLLvMF reg1+reg2", (30.4, 23.4, 27.6)),
    "ft_vmf_reg12_tied": ("fastText", "yes", "word->emb", "NLLvMF reg1+reg2", (32.1, 25.1, 31.7)),
    "adaptive_softmax": ("-", "no", "word->word", "adaptive softmax", (None, None, None)),
    "vmf_recipe": ("fastText, every row mixed with random (weight 0.5)", "no", "word->emb",
                   "NLLvMF reg1+reg2 + renormalised x10 (this project)", (None, None, None)),
    "vmf_main": ("the ce_word_word row's output embeddings", "no", "word->emb",
                 "NLLvMF reg1+reg2 + renormalised x10, pre-norm layers (the main job)", (None, None, None)),
}
# rows whose table is another row's trained model: that training (its log committed beside the
# row as softmax_twin.train.log.gz) counts in the row's CPU time, at the other row's cost
TABLE_FROM = {"vmf_main": "ce_word_word"}
UPDATES = re.compile(r"num_updates[ =](\d+)")
# the budget a row trained to, in the training command seed_table.sh records (the last one wins:
# a row trained in stages names each)
BUDGET = re.compile(r"MAX_UPDATE=(\d+)")
# the plugin's own line for continuous models, else fairseq's (which writes 2,963,456)
TRAINABLE = [re.compile(r"model: (\d+) trainable"),
             re.compile(r"num\. shared model params: [\d,]+ \(num\. trained: ([\d,]+)\)")]
# the model's dropout in the Namespace fairseq-train logs (not attention_/activation_dropout):
# the softmax recipe changed it (0.3 -> 0.1), so rows trained before and after must be told apart
DROPOUT = re.compile(r"(?<![\w])dropout=([0-9.]+)")


def _log_text(results: Path, pair: str, row: str, name: str = "train.log.gz"):
    log = results / pair / row / name
    if not log.is_file():
        return None
    with gzip.open(log, "rt", encoding="utf-8", errors="replace") as handle:
        return handle.read()


def budget(train_command):
    found = BUDGET.findall(train_command or "")
    return int(found[-1]) if found else None


def trainable_parameters(text):
    for pattern in TRAINABLE:
        found = pattern.findall(text or "")
        if found:
            return int(found[-1].replace(",", ""))
    return None


def dropout(text):
    found = DROPOUT.search(text or "")
    return float(found.group(1)) if found else None


def late_gain(text, fraction: float = 0.2):
    """Valid BLEU (fairseq's validation, greedy) gained in the last ``fraction`` of a run's
    updates: its best overall minus its best up to that point. Near 0: the curve had flattened
    at the budget; a gain of a BLEU point or more: still rising. None without valid lines."""
    points = [(int(m.group(3)), float(m.group(2))) for m in VALID.finditer(text or "")]
    if not points:
        return None
    cut = max(u for u, _ in points) * (1 - fraction)
    early = [b for u, b in points if u <= cut]
    return round(max(b for _, b in points) - max(early), 2) if early else None


def record_cost(results: Path, pair: str, row: str, updates_per_s: float, updates_run: int, log: str):
    path = results / "per_update_cost.json"
    costs = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    costs.setdefault(pair, {})[row] = {
        "updates_per_s": updates_per_s, "s_per_update": round(1 / updates_per_s, 4), "updates_run": updates_run,
        "log": log, "measured": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(costs, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def build(results: Path):
    rows = json.loads((results / "summary.json").read_text(encoding="utf-8"))["rows"]
    cost_file = results / "per_update_cost.json"
    costs = json.loads(cost_file.read_text(encoding="utf-8")) if cost_file.is_file() else {}
    index = {(r["pair"], r["system"], r["split"], r["beam"]): r for r in rows}
    table, signature = [], None
    for name, (embeddings, tied, segmentation, loss, paper) in ROWS.items():
        entry = {"row": name, "embeddings": embeddings, "tied": tied, "segmentation": segmentation, "loss": loss,
                 "paper_bleu": dict(zip(DIRECTIONS, paper)), "directions": {}}
        for pair in DIRECTIONS:
            greedy, beam5 = index.get((pair, name, "test", 1)), index.get((pair, name, "test", 5))
            if beam5 is None:
                continue
            signature = beam5["signature"]
            log = _log_text(results, pair, name)
            entry["directions"][pair] = {
                "bleu_greedy": greedy["bleu"] if greedy else None, "bleu_beam5": beam5["bleu"],
                "chrf_beam5": beam5["chrf"], "updates": beam5["updates"], "budget": budget(beam5.get("train_command")),
                "hyp_beam5": beam5["hyp"],
                "trainable_parameters": trainable_parameters(log), "dropout": dropout(log),
                "cpu_minutes": None, "valid_gain_last_fifth": late_gain(log),
            }
            cost = costs.get(pair, {}).get(name)
            if cost is not None and beam5["updates"] is not None:
                seconds = beam5["updates"] * cost["s_per_update"]
                if name in TABLE_FROM:
                    twin_cost = costs.get(pair, {}).get(TABLE_FROM[name])
                    twin_updates = UPDATES.findall(_log_text(results, pair, name, "softmax_twin.train.log.gz") or "")
                    if twin_cost and twin_updates:
                        seconds += int(twin_updates[-1]) * twin_cost["s_per_update"]
                    else:  # the twin's time is unknown: no number rather than one too small
                        seconds = None
                if seconds is not None:
                    entry["directions"][pair]["cpu_minutes"] = round(seconds / 60, 1)
        table.append(entry)
    return table, signature


def markdown(table, signature, results: Path = REPO / "results" / "seed_table") -> str:
    cell = lambda v: "-" if v is None else f"{v}"  # noqa: E731
    lines = ["# The seed paper's table on Multi30k (test_2016_flickr)", "",
             f"Made by `python scripts/seed_table_report.py{_results_flag(results)}` from "
             f"`{_shown(results)}/summary.json` (rows recorded by `scripts/seed_table.sh SRC TGT`). Per direction: "
             "BLEU greedy / beam 5, chrF (beam 5), updates of the decoded checkpoint (best on valid) of the row's "
             "budget, training CPU minutes (updates x the "
             "row's seconds per update, measured side by side: `per_update_cost.json`; a row whose table "
             "is another row's model adds that model's training); trainable parameters (per direction "
             "where they differ); the paper's BLEU (IWSLT'16 data, not comparable in value: compare rankings).", "",
             "| row | emb. | tied | segmentation | loss | " + " | ".join(
                 f"{d} greedy / beam 5 / chrF / updates of budget / CPU min" for d in DIRECTIONS) + " | params | paper fr-en / de-en / en-fr |",
             "|" + "---|" * (7 + len(DIRECTIONS))]
    for e in table:
        dirs = []
        params = {}  # each direction's vocabularies differ, and so may its parameter count
        for d in DIRECTIONS:
            r = e["directions"].get(d)
            dirs.append("not run" if r is None else
                        f"{cell(r['bleu_greedy'])} / {r['bleu_beam5']} / {r['chrf_beam5']} / {r['updates']}"
                        + ("" if r.get("budget") is None else f" of {r['budget']}")
                        + f" / {cell(r.get('cpu_minutes'))}")
            if r is not None and r.get("trainable_parameters") is not None:
                params[d] = r["trainable_parameters"]
        params = (None if not params else next(iter(params.values())) if len(set(params.values())) == 1
                  else "; ".join(f"{d} {n}" for d, n in params.items()))
        paper = " / ".join(cell(e["paper_bleu"][d]) for d in DIRECTIONS)
        lines.append(f"| {e['row']} | {e['embeddings']} | {e['tied']} | {e['segmentation']} | {e['loss']} | "
                     + " | ".join(dirs) + f" | {cell(params)} | {paper} |")
    by_dropout = {}
    for e in table:
        for d, r in e["directions"].items():
            by_dropout.setdefault(r.get("dropout"), []).append(f"{e['row']} {d}")
    if by_dropout:
        lines += ["", "Dropout, read from each cell's training log: " + "; ".join(
            f"{cell(value)}: " + (f"all {len(cells)} cells" if len(by_dropout) == 1 else ", ".join(cells))
            for value, cells in sorted(by_dropout.items(), key=lambda kv: -len(kv[1]))) + "."]
    lines += ["", f"sacreBLEU signature: {signature or '(no row recorded yet)'}", ""]
    return "\n".join(lines + at_a_glance(table) + still_rising(table))


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _results_flag(results: Path) -> str:
    return "" if results.resolve() == (REPO / "results" / "seed_table").resolve() else f" --results {_shown(results)}"


def per_direction(title, table, cell):
    """A markdown table, one line per row and one column per direction, each cell written by
    ``cell(entry, direction, recorded)`` (recorded: the direction's results, None if not run)."""
    lines = [f"## {title}", "", "| row | " + " | ".join(DIRECTIONS) + " |", "|" + "---|" * (1 + len(DIRECTIONS))]
    for e in table:
        cells = [cell(e, d, e["directions"].get(d)) for d in DIRECTIONS]
        lines.append(f"| {e['row']} | " + " | ".join(cells) + " |")
    return lines


def still_rising(table):
    """Each cell's valid BLEU gain over its last fifth of updates (``late_gain``)."""
    def gain(e, d, r):
        if r is None:
            return "not run"
        return "-" if r.get("valid_gain_last_fifth") is None else f"{r['valid_gain_last_fifth']:+.2f}"
    return per_direction("Still rising at the budget? Valid BLEU (greedy, from the training log) gained in the "
                         "last fifth of each cell's updates", table, gain) + [""]


def at_a_glance(table):
    """Beam-5 BLEU only, each of the paper's rows ranked in its direction among the paper's
    rows, ours and the paper's (ties share a rank): the rankings the issue compares."""
    def ranks(scores):
        return {row: 1 + sum(other > score for other in scores.values()) for row, score in scores.items()}
    seed = [e for e in table if any(v is not None for v in e["paper_bleu"].values())]
    ours = {d: ranks({e["row"]: e["directions"][d]["bleu_beam5"] for e in seed if d in e["directions"]})
            for d in DIRECTIONS}
    paper = {d: ranks({e["row"]: e["paper_bleu"][d] for e in seed if e["paper_bleu"][d] is not None})
             for d in DIRECTIONS}

    def ranked(e, d, r):
        text = "not run" if r is None else str(r["bleu_beam5"])
        if r is not None and e["row"] in ours[d]:
            text += f" ({ours[d][e['row']]})"
        if e["row"] in paper[d]:
            text += f" [{e['paper_bleu'][d]} ({paper[d][e['row']]})]"
        return text
    lines = per_direction("At a glance: beam-5 BLEU, and in brackets the paper's BLEU; (N): the row's rank in its "
                          "direction among the paper's rows that have a score (the extra rows unranked)", table, ranked)
    for name, rows in (("the rows both have", seed),
                       ("the continuous rows (word->emb) only", [e for e in seed if e["segmentation"] == "word->emb"])):
        agreement = []
        for d in DIRECTIONS:
            both = [e for e in rows if d in e["directions"] and e["paper_bleu"][d] is not None]
            if len(both) >= 3:
                rho = spearman([e["directions"][d]["bleu_beam5"] for e in both],
                               [e["paper_bleu"][d] for e in both])
                agreement.append(f"{d} {rho:.2f} ({len(both)} rows)")
        if agreement:
            lines += ["", f"Spearman's rank correlation between our beam-5 BLEU and the paper's over {name} "
                      "(1: the same order; 0: unrelated): " + ", ".join(agreement) + "."]
    return lines + [""]


def spearman(xs, ys) -> float:
    """Spearman's rho: Pearson's correlation of the ranks, tied values sharing their mean rank.
    Written here because scipy is only a test extra and ``statistics.correlation(...,
    method="ranked")`` needs Python 3.12; the tests check it against scipy."""
    def mean_ranks(values):
        order = sorted(range(len(values)), key=values.__getitem__)
        result = [0.0] * len(values)
        start = 0
        while start < len(order):
            end = start
            while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
                end += 1
            for i in order[start:end + 1]:
                result[i] = (start + end) / 2 + 1
            start = end + 1
        return result
    rx, ry = mean_ranks(list(xs)), mean_ranks(list(ys))
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    spread = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / spread if spread else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=REPO / "results" / "seed_table")
    parser.add_argument("--out", type=Path, default=None, help="output stem (default: RESULTS.md / .json)")
    commands = parser.add_subparsers(dest="command")
    cost = commands.add_parser("record-cost", help="record one row's measured seconds per update")
    cost.add_argument("--pair", required=True)
    cost.add_argument("--row", required=True, choices=sorted(ROWS))
    cost.add_argument("--updates-per-s", required=True, type=float)
    cost.add_argument("--updates-run", required=True, type=int)
    cost.add_argument("--log", required=True)
    gain = commands.add_parser("late-gain", help="print a training log's valid BLEU gained in its last fifth "
                                                 "of updates ('none' without valid lines)")
    gain.add_argument("log", type=Path, help="fairseq-train's log (plain or .gz)")
    budget_of = commands.add_parser("budget-of", help="print the budget (MAX_UPDATE) a recorded row trained to")
    budget_of.add_argument("--pair", required=True)
    budget_of.add_argument("--row", required=True)
    args = parser.parse_args()
    if args.command == "budget-of":
        path = args.results / "summary.json"
        rows = json.loads(path.read_text(encoding="utf-8"))["rows"] if path.is_file() else []
        found = [budget(r.get("train_command")) for r in rows if r["pair"] == args.pair and r["system"] == args.row
                 and r["split"] == "test" and r["beam"] == 5]
        if not found or found[0] is None:
            raise SystemExit(f"seed_table_report budget-of: {path} has no recorded {args.pair} {args.row} row with "
                             f"its budget (MAX_UPDATE); run that row first (scripts/seed_table.sh "
                             f"{args.pair.replace('-', ' ')} {args.row})")
        print(found[0])
        return
    if args.command == "late-gain":
        if not args.log.is_file():
            raise SystemExit(f"seed_table_report late-gain: {args.log}: no such training log")
        opener = gzip.open if args.log.suffix == ".gz" else open
        with opener(args.log, "rt", encoding="utf-8", errors="replace") as handle:
            found = late_gain(handle.read())
        print("none" if found is None else found)
        return
    if args.command == "record-cost":
        if not args.updates_per_s > 0:
            raise SystemExit(f"seed_table_report: --updates-per-s {args.updates_per_s}: must be positive")
        args.results.mkdir(parents=True, exist_ok=True)
        record_cost(args.results, args.pair, args.row, args.updates_per_s, args.updates_run, args.log)
        return
    if not (args.results / "summary.json").is_file():
        raise SystemExit(f"seed_table_report: {args.results / 'summary.json'}: no rows recorded yet "
                         "(run scripts/seed_table.sh)")
    table, signature = build(args.results)
    out = args.out or args.results
    out.with_suffix(".json").write_text(json.dumps({"signature": signature, "rows": table}, indent=1) + "\n",
                                        encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(table, signature, args.results), encoding="utf-8")
    print(f"seed_table_report: {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
