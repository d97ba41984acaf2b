#!/usr/bin/env python
"""Decoding-step kNN search over a large synthetic target table: time and memory per step.

For one decoding step of `--hypotheses` hypotheses (batch x beam) against a table of `--rows`
unit vectors, it times each kNN backend and the dense baseline that fairseq's stock beam
search needs (a hypotheses x rows score matrix, then top-k), in the same run, and reports
ratios against that baseline. It also reports the largest tensor the torch path creates
(counted with a dispatch hook), against the dense score matrix, and the extra pass for the
exact vMF normaliser (``--knn-score vmf``), which ``vmf_topk`` avoids.

    python scripts/benchmark_knn.py --rows 1000000 --out results/knn_1m
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from fairseq_vmf.maths.vocabulary_scan import DEFAULT_CHUNK_SIZE, log_partition
from fairseq_vmf.profiling import LargestTensor
from fairseq_vmf.search import build_candidate_search


def timed(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="target words in the synthetic table")
    parser.add_argument("--dim", type=int, default=300, help="embedding dimension")
    parser.add_argument("--hypotheses", type=int, default=320, help="batch x beam queries per step (64 x 5)")
    parser.add_argument("--k", type=int, default=10, help="candidates per hypothesis")
    parser.add_argument("--backends", default="torch,faiss_flat",
                        help="comma-separated kNN backends (faiss_hnsw builds slowly at 1M rows on CPU)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (median)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, required=True, help="output stem: writes STEM.json and STEM.md")
    args = parser.parse_args(argv)
    if args.out.with_suffix(".json").exists() or args.out.with_suffix(".md").exists():
        parser.error(f"--out {args.out}: results already there; pick another stem")

    generator = torch.Generator().manual_seed(0)
    table = torch.nn.functional.normalize(torch.randn(args.rows, args.dim, generator=generator), dim=1).to(args.device)
    picks = torch.randint(0, args.rows, (args.hypotheses,), generator=generator)
    queries = (table[picks.to(args.device)] * 10 + torch.randn(args.hypotheses, args.dim, generator=generator).to(args.device))
    never = (0, 1)

    def sync():
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    def dense():
        scores = queries @ table.t()
        scores[:, list(never)] = float("-inf")
        result = scores.topk(args.k, dim=1)
        sync()
        return result

    rows = []
    dense_time = timed(dense, args.repeats)
    dense_bytes = args.hypotheses * args.rows * 4
    expected = dense().indices
    rows.append({"method": "dense scores + top-k (stock beam search)", "build_s": 0.0, "step_s": dense_time,
                 "speed_vs_dense": 1.0, "largest_tensor_MB": dense_bytes / 2**20, "recall_at_k": 1.0})
    for name in [b for b in args.backends.split(",") if b]:
        start = time.perf_counter()
        search = build_candidate_search(table, never, name)
        build = time.perf_counter() - start

        def step():
            result = search.search(queries, args.k)
            sync()
            return result

        step_time = timed(step, args.repeats)
        with LargestTensor() as probe:
            _, found = step()
        recall = sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(found.cpu(), expected.cpu())) / expected.numel()
        largest = probe.largest_bytes / 2**20 if name == "torch" else None  # FAISS allocates outside torch
        rows.append({"method": f"kNN backend {name}", "build_s": build, "step_s": step_time,
                     "speed_vs_dense": dense_time / step_time, "largest_tensor_MB": largest, "recall_at_k": recall})
    banned = torch.zeros(args.rows, dtype=torch.bool, device=table.device)
    banned[list(never)] = True
    norm_time = timed(lambda: (log_partition(queries, table, banned), sync()), args.repeats)
    rows.append({"method": "exact vMF normaliser pass (--knn-score vmf)", "build_s": 0.0, "step_s": norm_time,
                 "speed_vs_dense": dense_time / norm_time,
                 "largest_tensor_MB": args.hypotheses * DEFAULT_CHUNK_SIZE * 4 / 2**20,  # one chunk of scores
                 "recall_at_k": None})

    # --knn-score vmf with the torch backend: candidates + normaliser as two scans of the
    # table (before) and as one fused scan (search_with_log_partition, what the generator does)
    if "torch" in args.backends.split(","):
        torch_search = build_candidate_search(table, never, "torch")
        two = timed(lambda: (torch_search.search(queries, args.k), log_partition(queries, table, banned), sync()),
                    args.repeats)
        one = timed(lambda: (torch_search.search_with_log_partition(queries, args.k), sync()), args.repeats)
        for method, seconds in (("torch kNN + vMF normaliser, two scans", two),
                                ("torch kNN + vMF normaliser, one fused scan (the generator)", one)):
            rows.append({"method": method, "build_s": 0.0, "step_s": seconds, "speed_vs_dense": dense_time / seconds,
                         "largest_tensor_MB": None, "recall_at_k": 1.0})

    machine = {"device": args.device, "torch": torch.__version__, "threads": torch.get_num_threads(),
               "python": sys.version.split()[0]}
    result = {"settings": vars(args) | {"out": str(args.out)}, "machine": machine, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    lines = [
        f"One decoding step: {args.hypotheses} hypotheses, table {args.rows:,} x {args.dim}, k = {args.k}, "
        f"device {args.device} ({machine['threads']} threads); median of {args.repeats}.",
        "",
        "| method | build (s) | step (s) | speed vs dense | largest tensor (MB) | recall@k |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        largest = ("n/a (FAISS)" if "faiss" in row["method"] else "") if row["largest_tensor_MB"] is None \
            else f"{row['largest_tensor_MB']:.0f}"
        recall = "" if row["recall_at_k"] is None else f"{row['recall_at_k']:.3f}"
        lines.append(f"| {row['method']} | {row['build_s']:.2f} | {row['step_s']:.3f} | {row['speed_vs_dense']:.2f}x | {largest} | {recall} |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
