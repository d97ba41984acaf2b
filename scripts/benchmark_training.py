#!/usr/bin/env python
"""Training and decoding cost of continuous outputs against softmax, by vocabulary size.

For each model body, target vocabulary size and output layer, one fresh worker process
builds the model with fairseq's registry and measures, on the same synthetic batches:

- training throughput: target tokens per second over full steps (criterion forward,
  backward, Adam step), median over --steps timed steps after --warmup steps;
- peak memory: the worker's peak RSS above its RSS before the model was built (CPU),
  and torch.cuda.max_memory_allocated on CUDA;
- trainable parameters, total and in the output layer (for tied softmax the shared
  V x d matrix counts as output layer);
- decoding speed (sentences per second, median of --decode-repeats passes) at beam 1
  and 5, softmax with fairseq's stock SequenceGenerator, continuous with the kNN
  generator and each --backends backend.

Systems: softmax (label_smoothed_cross_entropy, tied input/output embeddings), adaptive
(fairseq's adaptive softmax + adaptive_loss), plif (softmax + LMS-PLIF, K = 1e5),
augmented (softmax + Inan et al.'s augmented loss), vmf (exact log C_m), vmf_approx (the
paper's approximation), cosine (continuous models: decoder inputs tied to the frozen table).
By default the issue's five (softmax, adaptive, vmf, vmf_approx, cosine); --full adds plif
and augmented.

Batches are synthetic: sentence-pair lengths are drawn from Multi30k's training set
(whitespace-separated words of --data train.{src,tgt}.gz) and packed like fairseq
(--max-tokens per batch, similar lengths together); token ids are Zipf-distributed
(p(rank r) ~ 1/r) over the vocabulary, as word frequencies are. Weights are untrained,
so decoding runs every hypothesis to a fixed length (--decode-length): equal work for
every system.

    python scripts/benchmark_training.py --out results/training_cpu           # defaults, < 10 min on 2 CPU cores
    python scripts/benchmark_training.py --out results/training_full --full   # the whole grid
"""

import argparse
import json
import sys
import time
from pathlib import Path

from benchmark_measure import run_worker
from benchmark_report import combine_rounds, machine_description, markdown, merged_reports, plot
from benchmark_systems import BODIES, DEFAULT_SYSTEMS, SYSTEMS


def parse_args(argv=None):
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="output stem: writes STEM.json, STEM.md and STEM.png")
    parser.add_argument("--full", action="store_true",
                        help="the whole grid: vocabularies 10k-500k, all bodies, systems and backends")
    parser.add_argument("--vocab", help="comma-separated target vocabulary sizes (default 10000,50000)")
    parser.add_argument("--bodies", help=f"comma-separated bodies from {','.join(BODIES)} "
                                         "(default transformer_small,lstm)")
    parser.add_argument("--systems", help=f"comma-separated output layers from {','.join(SYSTEMS)} "
                                          f"(default {','.join(DEFAULT_SYSTEMS)}; --full: all)")
    parser.add_argument("--backends", help="kNN backends for decoding (default torch,faiss_flat; "
                                           "full grid adds faiss_hnsw)")
    parser.add_argument("--max-tokens", type=int, default=2048,
                        help="tokens per batch (the main job trains with 4096; 2048 keeps the default grid "
                             "within 10 minutes on 2 CPU cores)")
    parser.add_argument("--steps", type=int, default=3, help="timed training steps (median)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed training steps first")
    parser.add_argument("--decode-sentences", type=int, default=32, help="sentences per decoding pass")
    parser.add_argument("--decode-repeats", type=int, default=3,
                        help="timed decoding passes after one warm-up pass (median)")
    parser.add_argument("--decode-length", type=int, default=15,
                        help="tokens every hypothesis decodes (Multi30k's mean French length is 14)")
    parser.add_argument("--no-decode", action="store_true", help="skip the decoding measurements")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the whole grid this many times, each configuration in a fresh worker, "
                             "and report medians (the table shows the throughput range over rounds)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--from-json", type=Path, nargs="+",
                        help="measure nothing: write STEM.md and STEM.png from earlier STEM.json files "
                             "(several are merged into one table and plot)")
    parser.add_argument("--data", type=Path, default=repo.parent / "shared" / "data" / "multi30k",
                        help="Multi30k raw folder (train.SRC.gz, train.TGT.gz) for the length distribution")
    parser.add_argument("--src", default="en")
    parser.add_argument("--tgt", default="fr")
    args = parser.parse_args(argv)
    for name in ("max_tokens", "steps", "decode_sentences", "decode_repeats", "decode_length", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.warmup < 0:
        parser.error(f"--warmup must be >= 0, got {args.warmup}")
    return args


def configurations(args):
    vocab = [int(v) for v in (args.vocab or ("10000,50000,100000,500000" if args.full else "10000,50000")).split(",")]
    bodies = (args.bodies or (",".join(BODIES) if args.full else "transformer_small,lstm")).split(",")
    backends = (args.backends or ("torch,faiss_flat,faiss_hnsw" if args.full else "torch,faiss_flat")).split(",")
    systems = (args.systems or ",".join(SYSTEMS if args.full else DEFAULT_SYSTEMS)).split(",")
    for name, chosen, allowed in (("--bodies", bodies, BODIES), ("--systems", systems, SYSTEMS)):
        bad = [c for c in chosen if c not in allowed]
        if bad:
            raise SystemExit(f"benchmark_training.py: {name}: unknown {bad[0]!r} (choose from {', '.join(allowed)})")
    for body in bodies:
        for size in vocab:
            for system in systems:
                yield dict(body=body, vocab=size, system=system, device=args.device, data=str(args.data),
                           src=args.src, tgt=args.tgt, max_tokens=args.max_tokens, steps=args.steps,
                           warmup=args.warmup, backends=backends, decode_sentences=args.decode_sentences,
                           decode_length=args.decode_length, decode_repeats=args.decode_repeats,
                           # augmented decodes as softmax, and the three continuous losses
                           # train one model: decoding is measured once for each
                           decode=not args.no_decode and system in ("softmax", "adaptive", "plif", "vmf"))


def main(argv=None):
    args = parse_args(argv)
    if args.out is None:
        raise SystemExit("benchmark_training.py: --out STEM is required")
    if args.from_json:
        results, metas = merged_reports(args.from_json)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".md").write_text(markdown(results, metas))
        plot(results, args.out.with_suffix(".png"), metas)
        return
    if args.out.with_suffix(".json").exists():  # measurements take minutes to hours: never overwrite them
        raise SystemExit(f"benchmark_training.py: --out {args.out}: {args.out.with_suffix('.json')} is already "
                         "there; pick another stem or remove it (--from-json rewrites only the table and plot)")
    import torch

    import fairseq_vmf  # noqa: F401  (registers the plugin's models and criteria; workers fork after this)
    from fairseq_vmf.generation import ContinuousSequenceGenerator  # noqa: F401
    from fairseq.sequence_generator import SequenceGenerator  # noqa: F401

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("benchmark_training.py: --device cuda but torch sees no GPU")
    for split in (args.src, args.tgt):
        if not (args.data / f"train.{split}.gz").is_file():
            raise SystemExit(f"benchmark_training.py: --data {args.data}: no train.{split}.gz")
    results = []
    started = time.time()
    grid = list(configurations(args))
    rounds = [[] for _ in grid]
    for round_index in range(args.rounds):  # whole grid per round: slow machine drift hits every system
        for config, measured in zip(grid, rounds):
            result = run_worker(config)
            measured.append(result)
            status = result.get("error", "").splitlines()[-1:] or [f"{result['train_tokens_per_s']:,.0f} tok/s"]
            label = f" (round {round_index + 1})" if args.rounds > 1 else ""
            print(f"{config['body']:>17} {config['vocab']:>7} {config['system']:>10}: {status[0]}{label}", flush=True)
    results = [combine_rounds(measured) for measured in rounds]
    meta = {"machine": machine_description(args.device), "device": args.device,
            "command": "python scripts/benchmark_training.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "max_tokens": args.max_tokens, "steps": args.steps, "warmup": args.warmup,
            "decode_repeats": None if args.no_decode else args.decode_repeats, "rounds": args.rounds,
            "seconds": round(time.time() - started, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(results, [meta]))
    plot(results, args.out.with_suffix(".png"), [meta])
    print(args.out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
