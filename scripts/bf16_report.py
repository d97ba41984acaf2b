"""Report of scripts/bf16_check.sh: every logged loss, kappa and gradient norm finite, and valid
BLEU of the bfloat16 runs against the spread of the float32 seeds.

    python scripts/bf16_report.py --out OUT_DIR --updates 1000 fp32_seed1 fp32_seed2 bf16_seed1 bf16_seed2

Writes OUT_DIR/report.md and OUT_DIR/report.json; exits 1 when a run did not reach its updates,
logged a non-finite value or was not decoded.
"""
import argparse
import json
import math
import re
import sys
from pathlib import Path

CHECKED = ("loss", "kappa", "gnorm")  # the values the check asks to be finite at every update
_PAIR = re.compile(r"(\w+)=([^,\s]+)")


def train_inner_values(log_text):
    """One dict per `train_inner` line of a fairseq log (the per-update log at log_interval 1), in
    fairseq-train's format (`| train_inner | ... loss=...`) or fairseq-hydra-train's
    (`[train_inner][INFO] - ... loss=...`)."""
    rows = []
    for line in log_text.splitlines():
        if "train_inner" not in line or "num_updates=" not in line:
            continue
        row = {}
        for key, value in _PAIR.findall(line):
            try:
                row[key] = float(value)
            except ValueError:
                pass
        rows.append(row)
    return rows


def run_summary(out, run):
    log = (out / f"{run}.train.log").read_text(errors="replace") if (out / f"{run}.train.log").exists() else ""
    rows = train_inner_values(log)
    non_finite = [(int(r.get("num_updates", -1)), k, r[k]) for r in rows for k in CHECKED
                  if k in r and not math.isfinite(r[k])]
    bleu_file = out / run / "valid.beam1.bleu.json"
    bleu = json.loads(bleu_file.read_text())["score"] if bleu_file.exists() else None
    return {
        "run": run,
        "updates": int(max((r.get("num_updates", 0) for r in rows), default=0)),
        "logged_updates": len(rows),
        "non_finite": non_finite,
        "gnorm_max": max((r["gnorm"] for r in rows if "gnorm" in r), default=None),
        "kappa_min": min((r["kappa"] for r in rows if "kappa" in r), default=None),
        "kappa_max": max((r["kappa"] for r in rows if "kappa" in r), default=None),
        "last_loss": rows[-1].get("loss") if rows else None,
        "overflow_lines": sum("overflow" in line.lower() for line in log.splitlines()),
        "done": "done training" in log,
        "valid_bleu": bleu,
        "precision": checkpoint_precision(out / run / "checkpoint_last.pt"),
    }


def checkpoint_precision(path):
    """The precision a run trained in, from its checkpoint's config. (fairseq saves the weights
    cast to float32 whatever they trained in, so their dtype in the file says nothing.)"""
    if not path.exists():
        return None
    import torch
    import fairseq_vmf  # noqa: F401  (its allow-list lets torch's safe loader read fairseq checkpoints)
    common = torch.load(path, map_location="cpu")["cfg"]["common"]
    return "bfloat16" if common["bf16"] else ("float16" if common["fp16"] else "float32")


def spread_verdicts(summaries):
    """Each bf16 run's valid BLEU against [min, max] of the float32 runs."""
    fp32 = [s["valid_bleu"] for s in summaries if s["run"].startswith("fp32") and s["valid_bleu"] is not None]
    if len(fp32) < 2:
        return []
    low, high = min(fp32), max(fp32)
    return [{"run": s["run"], "bleu": s["valid_bleu"], "fp32_low": low, "fp32_high": high,
             "within": s["valid_bleu"] is not None and low <= s["valid_bleu"] <= high}
            for s in summaries if s["run"].startswith("bf16")]


def markdown(summaries, verdicts, updates):
    def fmt(x):
        return "-" if x is None else (f"{x:.2f}" if isinstance(x, float) else str(x))
    lines = ["| run | trained in | updates | per-update lines | non-finite loss/kappa/gnorm | "
             "kappa min-max | max gnorm | last loss | valid BLEU (greedy) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in summaries:
        lines.append(f"| {s['run']} | {fmt(s['precision'])} | {s['updates']} | "
                     f"{s['logged_updates']} | {len(s['non_finite'])} | {fmt(s['kappa_min'])}-{fmt(s['kappa_max'])} | "
                     f"{fmt(s['gnorm_max'])} | {fmt(s['last_loss'])} | {fmt(s['valid_bleu'])} |")
    lines.append("")
    for v in verdicts:
        where = "within" if v["within"] else "outside"
        lines.append(f"- {v['run']}: valid BLEU {fmt(v['bleu'])}, {where} the float32 seeds' spread "
                     f"[{fmt(v['fp32_low'])}, {fmt(v['fp32_high'])}]")
    complete = all(s["updates"] >= updates and s["done"] and not s["non_finite"] and s["valid_bleu"] is not None
                   for s in summaries)
    lines.append(f"- every run reached {updates} updates with every logged value finite, and was decoded: "
                 f"{'yes' if complete else 'NO'}")
    return "\n".join(lines) + "\n", complete


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="scripts/bf16_check.sh's OUT_DIR")
    parser.add_argument("--updates", type=int, required=True, help="the update budget of every run")
    parser.add_argument("runs", nargs="+", help="run names (folders and logs in OUT_DIR)")
    args = parser.parse_args(argv)
    if not args.out.is_dir():
        parser.error(f"--out {args.out}: no such folder")
    summaries = [run_summary(args.out, run) for run in args.runs]
    verdicts = spread_verdicts(summaries)
    text, complete = markdown(summaries, verdicts, args.updates)
    (args.out / "report.md").write_text(text)
    (args.out / "report.json").write_text(json.dumps({"runs": summaries, "spread": verdicts}, indent=1) + "\n")
    sys.stdout.write(text)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
