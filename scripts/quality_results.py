#!/usr/bin/env python
"""Record and tabulate the quality results (results/quality/summary.json).

    quality_results.py add --pair en-fr --system vmf_fasttext --split test --beam 5 \
        --save-dir checkpoints/q/en-fr.vmf_fasttext --output checkpoints/q/en-fr.vmf_fasttext/test.beam5 \
        --ref data/ww.en-fr/raw/test.fr
    quality_results.py table [--readme README.md]   # re-scores every row from its committed hypotheses
    quality_results.py rename --pair en-fr --system main --to vmf_main_old   # a system's rows and folder

``add`` copies the detokenized hypotheses (``OUTPUT.txt``), the generate command
(``OUTPUT.command``), the training log (gzipped) and the log of test decodes into
``results/quality/PAIR/SYSTEM/``, scores the hypotheses with sacreBLEU and chrF, and
replaces the row of the same (pair, system, split, beam) in the summary. ``table``
re-scores each row from the committed files (references read from the raw data) and
prints the README's results table; it fails if a stored score disagrees. ``rename`` gives a
system's rows (every seed and tag) and its folder another name, e.g. to keep a row whose
recipe changed beside the one trained again under its name.
"""

import argparse
import gzip
import json
import re
import shutil
import sys
from pathlib import Path

import sacrebleu

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results" / "quality"
# raw references by split, as fairseq-vmf-prepare names them (relative to the raw data folder)
REFERENCE_FILES = {"test": "test_2016_flickr", "valid": "val"}


def load_rows(results):
    summary = results / "summary.json"
    return json.loads(summary.read_text(encoding="utf-8"))["rows"] if summary.is_file() else []


def save_rows(results, rows):
    rows = sorted(rows, key=lambda r: (r["pair"], r["system"], r.get("seed", 1), r["split"], r["beam"],
                                       r.get("tag", "")))
    results.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"rows": rows}, indent=1, ensure_ascii=False) + "\n"
    (results / "summary.json").write_text(text, encoding="utf-8")


def read_lines(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle]


def score(hyp_lines, ref_lines, where):
    if len(hyp_lines) != len(ref_lines):
        sys.exit(f"quality_results: {where}: {len(hyp_lines)} hypotheses for {len(ref_lines)} references")
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    result = bleu.corpus_score(hyp_lines, [ref_lines])
    return {
        "bleu": round(result.score, 2),
        "chrf": round(chrf.corpus_score(hyp_lines, [ref_lines]).score, 2),
        "signature": str(bleu.get_signature()),
    }


def checkpoint_updates(checkpoint):
    import torch

    import fairseq_vmf  # noqa: F401  (allow-lists fairseq checkpoints for torch.load)

    state = torch.load(checkpoint, map_location="cpu")
    return int(state["optimizer_history"][-1]["num_updates"])


def add(args):
    output = Path(args.output)
    hyp_src = Path(f"{output}.txt")
    results = Path(args.results)
    target = results / args.pair / args.system
    if args.seed != 1:  # another seed of the same system keeps its own training log and outputs
        target = target / f"seed{args.seed}"
    target.mkdir(parents=True, exist_ok=True)
    hyp = target / f"{args.split}.beam{args.beam}{'.' + args.tag if args.tag else ''}.txt"
    shutil.copyfile(hyp_src, hyp)
    command = Path(f"{output}.command").read_text(encoding="utf-8").strip()
    (target / f"{hyp.stem}.command").write_text(command + "\n", encoding="utf-8")
    save_dir = Path(args.save_dir)
    with open(save_dir / "train.log", "rb") as src, gzip.open(target / "train.log.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    if (save_dir / "test_decodes.log").is_file():
        shutil.copyfile(save_dir / "test_decodes.log", target / "test_decodes.log")
    row = {
        "pair": args.pair, "system": args.system, "split": args.split, "beam": args.beam,
        **({"tag": args.tag} if args.tag else {}), **({"seed": args.seed} if args.seed != 1 else {}),
        **score(read_lines(hyp), read_lines(args.ref), str(hyp)),
        # relative to the repository, else absolute: ``table`` and ``rename`` read it from anywhere
        "hyp": str(hyp.resolve().relative_to(REPO)) if hyp.resolve().is_relative_to(REPO) else str(hyp.resolve()),
        "updates": checkpoint_updates(args.checkpoint or save_dir / "checkpoint_best.pt"),
        "command": command,
        "train_command": args.train_command,
    }
    key = lambda r: (r["pair"], r["system"], r.get("seed", 1), r["split"], r["beam"], r.get("tag"))  # noqa: E731
    rows = [r for r in load_rows(results) if key(r) != key(row)]
    save_rows(results, rows + [row])
    print(json.dumps(row, ensure_ascii=False))


def seed_summary(rows):
    """Table lines (empty if none) for each system decoded the same way from several seeds:
    BLEU per seed, their mean and sample standard deviation."""
    groups = {}
    for row in rows:
        groups.setdefault((row["pair"], row["system"], row["split"], row["beam"], row.get("tag", "")), []).append(row)
    lines = []
    for (pair, system, split, beam, tag), group in groups.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: r.get("seed", 1))
        bleus = [r["bleu"] for r in group]
        mean = sum(bleus) / len(bleus)
        sd = (sum((b - mean) ** 2 for b in bleus) / (len(bleus) - 1)) ** 0.5
        seeds = ", ".join(f"{r.get('seed', 1)}: {r['bleu']:.2f}" for r in group)
        lines.append(f"| {pair} | {system}{f' ({tag})' if tag else ''} | {split} | {beam} | {seeds} "
                     f"| {mean:.2f} ± {sd:.2f} |")
    if not lines:
        return []
    return ["", "Over seeds (mean ± sample standard deviation):", "",
            "| pair | system | split | beam | BLEU by seed | mean ± sd |", "|---|---|---|---|---|---|", *lines]


def table(args):
    rows = load_rows(Path(args.results))
    raw = Path(args.raw_dir)
    lines = ["| pair | system | split | beam | BLEU | chrF | updates |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        src, tgt = row["pair"].split("-")
        ref = raw / f"{REFERENCE_FILES[row['split']]}.{tgt}.gz"
        # fairseq-vmf-prepare's references: whitespace runs collapsed
        refs = [" ".join(line.split()) for line in read_lines(ref)]
        fresh = score(read_lines(REPO / row["hyp"]), refs, row["hyp"])  # REPO / an absolute path = that path
        if abs(fresh["bleu"] - row["bleu"]) > 0.01:
            sys.exit(f"quality_results: {row['hyp']} scores {fresh['bleu']}, summary says {row['bleu']}")
        variant = ", ".join(part for part in (f"seed {row['seed']}" if "seed" in row else "", row.get("tag"))
                            if part)
        name = row["system"] + (f" ({variant})" if variant else "")
        lines.append(f"| {row['pair']} | {name} | {row['split']} | {row['beam']} | {fresh['bleu']:.2f} "
                     f"| {fresh['chrf']:.2f} | {row['updates']} |")
    lines += seed_summary(rows)
    signatures = sorted({row["signature"] for row in rows})
    lines.append("")
    lines.append("sacreBLEU signature: " + "; ".join(signatures))
    text = "\n".join(lines)
    print(text)
    if args.readme:
        readme = Path(args.readme)
        content = readme.read_text(encoding="utf-8")
        begin, end = "<!-- quality-table: begin -->", "<!-- quality-table: end -->"
        if begin not in content or end not in content:
            sys.exit(f"quality_results: {readme} has no {begin} ... {end} markers")
        head, rest = content.split(begin, 1)
        readme.write_text(head + begin + "\n" + text + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")


def rename(args):
    results = Path(args.results)
    where = results / "summary.json"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", args.to):
        sys.exit(f"quality_results rename: --to {args.to!r}: use letters, digits and _ . + - (a folder name)")
    rows = load_rows(results)
    mine = [r for r in rows if r["pair"] == args.pair and r["system"] == args.system]
    if not mine:
        sys.exit(f"quality_results rename: {where} has no rows of {args.pair} {args.system}")
    source, target = (results / args.pair / args.system).resolve(), (results / args.pair / args.to).resolve()
    if target.exists() or any(r["pair"] == args.pair and r["system"] == args.to for r in rows):
        sys.exit(f"quality_results rename: {args.pair} {args.to} already exists ({target} or its rows); "
                 "nothing was changed")
    hyps = [(Path(r["hyp"]) if Path(r["hyp"]).is_absolute() else REPO / r["hyp"]).resolve() for r in mine]
    for row, hyp in zip(mine, hyps):
        if not hyp.is_relative_to(source) or not hyp.is_file():
            sys.exit(f"quality_results rename: {row['hyp']} is not a file in {source}; nothing was changed")
    source.rename(target)
    for row, hyp in zip(mine, hyps):
        moved = target / hyp.relative_to(source)
        row["system"] = args.to
        row["hyp"] = str(moved.relative_to(REPO)) if moved.is_relative_to(REPO) else str(moved)
    save_rows(results, rows)
    print(f"quality_results rename: {len(mine)} rows of {args.pair} {args.system} -> {args.to} ({target})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default=str(RESULTS), help="the results folder (summary.json and hypotheses)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_add = sub.add_parser("add", help="record one decode")
    p_add.add_argument("--pair", required=True)
    p_add.add_argument("--system", required=True)
    p_add.add_argument("--split", choices=sorted(REFERENCE_FILES), required=True)
    p_add.add_argument("--beam", type=int, required=True)
    p_add.add_argument("--tag", default="", help="a decoding setting other than the default")
    p_add.add_argument("--seed", type=int, default=1, help="the training seed (rows of other seeds sit in SYSTEM/seedN/)")
    p_add.add_argument("--save-dir", required=True)
    p_add.add_argument("--checkpoint", help="default SAVE_DIR/checkpoint_best.pt")
    p_add.add_argument("--output", required=True, help="translate.sh's output stem (OUTPUT.txt, OUTPUT.command)")
    p_add.add_argument("--ref", required=True)
    p_add.add_argument("--train-command", required=True)
    p_add.set_defaults(run=add)
    p_table = sub.add_parser("table", help="re-score every row and print the results table")
    p_table.add_argument("--raw-dir", default=str(REPO.parent / "shared" / "data" / "multi30k"))
    p_table.add_argument("--readme", help="also write the table between the quality-table markers of this file")
    p_table.set_defaults(run=table)
    p_rename = sub.add_parser("rename", help="give a system's rows and folder another name")
    p_rename.add_argument("--pair", required=True)
    p_rename.add_argument("--system", required=True)
    p_rename.add_argument("--to", required=True, help="the new system name (no rows or folder of it yet)")
    p_rename.set_defaults(run=rename)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
