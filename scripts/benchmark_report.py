"""The reports of scripts/benchmark_training.py: the machine, the Markdown table with
ratios against softmax, the log-log plot, and the medians over rounds and merged runs."""

import json
import statistics
import sys
from pathlib import Path

from benchmark_systems import BODIES, SYSTEMS


def machine_description(device):
    import platform

    import torch

    if device == "cuda":
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def run_description(meta):
    decoding = meta.get("decode_repeats")
    rounds = meta.get("rounds", 1)
    return (f"`{meta['command']}` ({meta['machine']}; {meta['max_tokens']}-token batches, training: median of "
            f"{meta['steps']} steps after {meta['warmup']} warm-up"
            + (f"; decoding: median of {decoding} passes after one warm-up pass" if decoding else "")
            + (f"; every number the median of {rounds} rounds over the grid, tok/s range in brackets"
               if rounds > 1 else "") + ")")


def markdown(results, metas):
    """The table; ``results`` rows carry ``run``, an index into ``metas`` (one per command)."""
    runs = [f"{'run ' + str(i + 1) + ': ' if len(metas) > 1 else ''}{run_description(m)}"
            for i, m in enumerate(metas)]
    lines = [
        "Training and decoding cost by target vocabulary size. " + "; ".join(runs) + ".",
        "Synthetic batches of Multi30k's length distribution, Zipf word ids. Ratios are against softmax "
        "of the same body and vocabulary, measured in the same run.",
        "",
        "| body | vocab | system | train tok/s | vs softmax | train memory (MB) | vs softmax | params | "
        "output-layer params | decode sent/s (beam 1 / beam 5) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    base = {(r.get("run", 0), r["body"], r["vocab"]): r for r in results
            if r["system"] == "softmax" and "error" not in r}
    for r in results:
        if "error" in r:
            lines.append(f"| {r['body']} | {r['vocab']:,} | {r['system']} | failed: {r['error'].splitlines()[-1]} |"
                         " | | | | | |")
            continue
        b = base.get((r.get("run", 0), r["body"], r["vocab"]))
        speed = f"{r['train_tokens_per_s']:,.0f}"
        if len(r.get("train_tokens_per_s_rounds", [])) > 1:
            speed += f" ({min(r['train_tokens_per_s_rounds']):,.0f}–{max(r['train_tokens_per_s_rounds']):,.0f})"
        speed_ratio = f"{r['train_tokens_per_s'] / b['train_tokens_per_s']:.2f}x" if b else ""
        paired = list(zip(r.get("train_tokens_per_s_rounds", []), b.get("train_tokens_per_s_rounds", []))) if b else []
        if len(paired) > 1 and r is not b:  # the same rounds of both systems: ratio range over rounds
            ratios = [mine / theirs for mine, theirs in paired]
            speed_ratio += f" ({min(ratios):.2f}–{max(ratios):.2f})"
        memory = f"{r['cuda_max_allocated_mb']:,.0f}" if "cuda_max_allocated_mb" in r else f"{r['train_memory_mb']:,.0f}"
        memory_key = "cuda_max_allocated_mb" if "cuda_max_allocated_mb" in r else "train_memory_mb"
        memory_ratio = f"{r[memory_key] / b[memory_key]:.2f}x" if b and b[memory_key] > 0 else ""
        decode = ""
        if "decode_sentences_per_s" in r:
            speeds = r["decode_sentences_per_s"]
            decode = "; ".join(
                f"{key.split('.', 1)[1]} {speeds[key]:.1f} / {speeds[key.replace('beam1', 'beam5')]:.1f}"
                for key in speeds if key.startswith("beam1."))
        lines.append(f"| {r['body']} | {r['vocab']:,} | {r['system']} | {speed} | {speed_ratio} | {memory} | "
                     f"{memory_ratio} | {r['trainable_parameters']:,} | {r['output_layer_parameters']:,} | {decode} |")
    return "\n".join(lines) + "\n"


def plot(results, path, metas):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("benchmark_training.py: matplotlib is missing, no plot written "
              "(pip install 'fairseq_vmf[bench]')", file=sys.stderr)
        return False
    ok = [r for r in results if "error" not in r]
    memory_key = "cuda_max_allocated_mb" if any("cuda_max_allocated_mb" in r for r in ok) else "train_memory_mb"
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    colours = {system: f"C{i}" for i, system in enumerate(SYSTEMS)}  # one colour per system
    styles = dict(zip(BODIES, ("-", "--", ":")))  # one line style per body
    for body in dict.fromkeys(r["body"] for r in ok):
        for system in dict.fromkeys(r["system"] for r in ok):
            rows = sorted((r for r in ok if r["body"] == body and r["system"] == system), key=lambda r: r["vocab"])
            if not rows:
                continue
            vocab = [r["vocab"] for r in rows]
            line = dict(linestyle=styles[body], color=colours[system], marker="o", label=f"{system} ({body})")
            axes[0].plot(vocab, [r["train_tokens_per_s"] for r in rows], **line)
            axes[1].plot(vocab, [r[memory_key] for r in rows], **line)
    axes[0].set_ylabel("training target tokens / s")
    axes[1].set_ylabel("peak training memory (MB)" + (" CUDA" if memory_key.startswith("cuda") else " RSS"))
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("target vocabulary size")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=7, loc="best")
    fig.suptitle(", ".join(dict.fromkeys(m["machine"] for m in metas)), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def combine_rounds(measured):
    """One row from the rounds of one configuration: medians of every measurement, and
    the per-round training throughputs (their spread is the machine's run-to-run noise)."""
    if any("error" in r for r in measured) or len(measured) == 1:
        return next((r for r in measured if "error" in r), measured[0])
    row = dict(measured[0])
    for key in ("train_tokens_per_s", "peak_rss_mb", "train_memory_mb", "cuda_max_allocated_mb"):
        if key in row:
            row[key] = statistics.median(r[key] for r in measured)
    if "decode_sentences_per_s" in row:
        row["decode_sentences_per_s"] = {key: statistics.median(r["decode_sentences_per_s"][key] for r in measured)
                                         for key in row["decode_sentences_per_s"]}
    row["train_tokens_per_s_rounds"] = [r["train_tokens_per_s"] for r in measured]
    row.pop("train_tokens_per_s_steps", None)
    return row


def merged_reports(paths):
    """(results, metas) of several STEM.json files; each row is tagged with its run."""
    results, metas = [], []
    for path in paths:
        try:
            saved = json.loads(Path(path).read_text())
            meta, rows = saved["meta"], saved["results"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise SystemExit(f"benchmark_training.py: --from-json {path}: not a benchmark report ({err})")
        results.extend(dict(row, run=len(metas)) for row in rows)
        metas.append(meta)
    return results, metas
