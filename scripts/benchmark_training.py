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
import os
import resource
import statistics
import multiprocessing
import sys
import time
from pathlib import Path

SYSTEMS = ("softmax", "adaptive", "plif", "augmented", "vmf", "vmf_approx", "cosine")
# the comparison; plif and augmented (softmax improvements) join with --full or --systems
DEFAULT_SYSTEMS = ("softmax", "adaptive", "vmf", "vmf_approx", "cosine")
PLIF_ARCH = {"transformer": "plif_transformer", "lstm": "plif_lstm"}
CONTINUOUS = ("vmf", "vmf_approx", "cosine")
BODIES = ("transformer_small", "lstm_small", "lstm")
TABLE_DIM = 300
SRC_VOCAB = 8000

# body -> (softmax arch, continuous arch, dimensions). The softmax LSTM ties its output to
# the decoder inputs, so its decoder projects hidden states to the embedding dimension;
# the continuous LSTM gets that same projection, so both share one body and differ only
# in the output layer (V x d_emb against d_emb x 300).
BODY_ARGS = {  # the sizes come from the one definition of each body in fairseq_vmf.models
    "transformer_small": ("transformer", "continuous_transformer_small", "SMALL_TRANSFORMER"),
    "lstm_small": ("lstm", "continuous_lstm_small", "SMALL_LSTM"),
    "lstm": ("lstm", "continuous_lstm", "PAPER_LSTM"),  # the paper's body
}


def body_sizes(body: str) -> dict:
    from fairseq_vmf.models import lstm_bodies, transformer_bodies

    name = BODY_ARGS[body][2]
    return dict(getattr(transformer_bodies, name, None) or getattr(lstm_bodies, name))


def adaptive_cutoffs(vocab: int) -> str:
    """Frequency-cluster boundaries: a 2k-word head, tails at 10k and 50k words where the
    vocabulary is larger (fairseq's examples use 20k/60k for 260k-word vocabularies); a
    quarter of the words for tiny test vocabularies."""
    cuts = [c for c in (2000, 10000, 50000) if c < vocab - 1000] or [vocab // 4]
    return ",".join(map(str, cuts))


# -- worker ---------------------------------------------------------------------------------


def multi30k_lengths(data: Path, src: str, tgt: str):
    import gzip

    def lengths(lang):
        with gzip.open(data / f"train.{lang}.gz", "rt", encoding="utf-8") as f:
            return [len(line.split()) for line in f]

    pairs = list(zip(lengths(src), lengths(tgt)))
    if not pairs:
        raise SystemExit(f"benchmark_training.py: no sentences in {data}/train.{src}.gz")
    return pairs


def zipf_ids(generator, count, vocab, nspecial):
    import torch

    ranks = torch.arange(1, vocab - nspecial + 1, dtype=torch.float64)
    probs = 1.0 / ranks
    return torch.multinomial(probs / probs.sum(), count, replacement=True, generator=generator) + nspecial


def make_batches(pairs, src_dict, tgt_dict, max_tokens, count, seed):
    """fairseq-like batches: pairs sorted by length, packed while max_len x size <= max_tokens."""
    import torch

    g = torch.Generator().manual_seed(seed)
    chosen = torch.randperm(len(pairs), generator=g)[:20000].tolist()
    sample = sorted((pairs[i] for i in chosen), key=lambda p: (p[1], p[0]))
    groups, current = [], []
    for pair in sample:
        longest = max([p[1] + 1 for p in current + [pair]] + [p[0] + 1 for p in current + [pair]])
        if current and longest * (len(current) + 1) > max_tokens:
            groups.append(current)
            current = []
        current.append(pair)
    groups.append(current)
    picks = torch.randperm(len(groups), generator=g)[:count].tolist()
    batches = []
    for index in picks:
        group = sorted(groups[index], key=lambda p: -p[0])  # fairseq's collater: longest source first
        src_len = max(p[0] for p in group) + 1
        tgt_len = max(p[1] for p in group) + 1
        src = torch.full((len(group), src_len), src_dict.pad())
        target = torch.full((len(group), tgt_len), tgt_dict.pad())
        for row, (s, t) in enumerate(group):
            src[row, src_len - s - 1:-1] = zipf_ids(g, s, len(src_dict), src_dict.nspecial)  # left-padded
            src[row, -1] = src_dict.eos()
            target[row, :t] = zipf_ids(g, t, len(tgt_dict), tgt_dict.nspecial)
            target[row, t] = tgt_dict.eos()
        prev = torch.cat([torch.full((len(group), 1), tgt_dict.eos()), target[:, :-1]], dim=1)
        batches.append({
            "net_input": {"src_tokens": src, "src_lengths": torch.tensor([p[0] + 1 for p in group]),
                          "prev_output_tokens": prev},
            "target": target, "ntokens": int(target.ne(tgt_dict.pad()).sum()), "id": torch.arange(len(group)),
        })
    return batches


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def build(system, body, vocab, device):
    """(model, criterion, task) for one configuration."""
    from types import SimpleNamespace

    import torch
    from fairseq.criterions.adaptive_loss import AdaptiveLoss
    from fairseq.criterions.label_smoothed_cross_entropy import LabelSmoothedCrossEntropyCriterion
    from fairseq.data import Dictionary
    from fairseq.models import ARCH_MODEL_REGISTRY

    from fairseq_vmf.criterions.cosine import CosineOutputCriterion
    from fairseq_vmf.criterions.tied_augmented_ce import TiedAugmentedCrossEntropyCriterion
    from fairseq_vmf.criterions.vmf import VmfCriterion

    src_dict, tgt_dict = Dictionary(), Dictionary()
    for i in range(SRC_VOCAB - src_dict.nspecial):
        src_dict.add_symbol(f"s{i}")
    for i in range(vocab - tgt_dict.nspecial):
        tgt_dict.add_symbol(f"w{i}")
    softmax_arch, continuous_arch, _ = BODY_ARGS[body]
    dims = body_sizes(body)
    args = argparse.Namespace(**dims)
    task = SimpleNamespace(source_dictionary=src_dict, target_dictionary=tgt_dict, target_embeddings=None)
    if system in CONTINUOUS:
        g = torch.Generator().manual_seed(0)
        table = torch.nn.functional.normalize(torch.randn(len(tgt_dict), TABLE_DIM, generator=g), dim=1)
        task.target_embeddings = table
        args.arch, args.tie_target_embeddings, args.criterion = continuous_arch, True, "vmf"
        if body.startswith("lstm"):
            args.decoder_out_embed_dim = dims["decoder_embed_dim"]
    else:
        args.arch = PLIF_ARCH[softmax_arch] if system == "plif" else softmax_arch
        args.criterion = "adaptive_loss" if system == "adaptive" else "label_smoothed_cross_entropy"
        if body.startswith("lstm"):
            args.decoder_out_embed_dim = dims["decoder_embed_dim"]
        if system == "adaptive":
            args.adaptive_softmax_cutoff = adaptive_cutoffs(vocab)
            args.adaptive_softmax_dropout = 0.0
        else:
            args.share_decoder_input_output_embed = True
            if body.startswith("lstm"):
                args.adaptive_softmax_cutoff = None
    model = ARCH_MODEL_REGISTRY[args.arch].build_model(args, task).to(device)
    if system in ("softmax", "plif"):
        criterion = LabelSmoothedCrossEntropyCriterion(task, False, 0.1)
    elif system == "augmented":
        criterion = TiedAugmentedCrossEntropyCriterion(task, False, 0.1)
    elif system == "adaptive":
        criterion = AdaptiveLoss(task, False)
    elif system == "cosine":
        criterion = CosineOutputCriterion(task, False)
    else:
        criterion = VmfCriterion(task, False, 8192, 0.02, 0.1, "exact" if system == "vmf" else "approximate", 0)
    return model, criterion, task, (src_dict, tgt_dict)


def output_layer_parameters(model, system):
    decoder = model.decoder
    if system in CONTINUOUS:
        module = decoder.output_projection
    elif system == "adaptive":
        module = decoder.adaptive_softmax
    else:
        weight = decoder.embed_tokens.weight  # tied: the output layer is the shared V x d matrix
        plif = getattr(decoder, "plif", None)
        return weight.numel() + (sum(p.numel() for p in plif.parameters()) if plif is not None else 0)
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def to_device(batch, device):
    import torch

    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch.to(device) if torch.is_tensor(batch) else batch


def sync(device):
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def measure_training(model, criterion, batches, warmup, device):
    import torch

    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()
    rates = []
    for step, batch in enumerate(batches):
        sync(device)
        start = time.perf_counter()
        loss, _, _ = criterion(model, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync(device)
        if step >= warmup:
            rates.append(batch["ntokens"] / (time.perf_counter() - start))
    return statistics.median(rates), rates


def measure_decoding(model, system, dicts, sentences, beam, backend, length, device, repeats=3):
    import torch
    from fairseq.sequence_generator import SequenceGenerator

    from fairseq_vmf.generation import ContinuousSequenceGenerator

    _, tgt_dict = dicts
    model.eval()
    options = dict(beam_size=beam, max_len_a=0, max_len_b=length, min_len=length)
    if system in CONTINUOUS:
        generator = ContinuousSequenceGenerator([model], tgt_dict, knn_backend=backend, **options)
    else:
        generator = SequenceGenerator([model], tgt_dict, **options)
    with torch.no_grad():
        generator.generate([model], sentences[0])  # warm-up (and the kNN index build)
        rates = []
        for _ in range(repeats):  # one pass over a few sentences is too short to time alone
            sync(device)
            start = time.perf_counter()
            done = 0
            for batch in sentences:
                generator.generate([model], batch)
                done += batch["net_input"]["src_tokens"].size(0)
            sync(device)
            rates.append(done / (time.perf_counter() - start))
    return statistics.median(rates)


def worker(config):
    import torch

    torch.manual_seed(0)
    device = config["device"]
    pairs = multi30k_lengths(Path(config["data"]), config["src"], config["tgt"])
    base_rss = rss_mb()
    model, criterion, task, dicts = build(config["system"], config["body"], config["vocab"], device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    batches = [to_device(b, device) for b in make_batches(
        pairs, *dicts, config["max_tokens"], config["warmup"] + config["steps"], seed=1)]
    result = dict(config)
    result["trainable_parameters"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    result["output_layer_parameters"] = output_layer_parameters(model, config["system"])
    result["train_tokens_per_s"], result["train_tokens_per_s_steps"] = measure_training(
        model, criterion, batches, config["warmup"], device)
    result["peak_rss_mb"] = peak_rss_mb()
    result["train_memory_mb"] = peak_rss_mb() - base_rss
    if device == "cuda":
        result["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
    if config["decode"]:
        sentences = decode_batches(pairs, dicts, config["decode_sentences"], device)
        speeds = {}
        backends = config["backends"] if config["system"] in CONTINUOUS else ["stock"]
        for beam in (1, 5):
            for backend in backends:
                speeds[f"beam{beam}.{backend}"] = measure_decoding(
                    model, config["system"], dicts, sentences, beam, backend, config["decode_length"], device,
                    config["decode_repeats"])
        result["decode_sentences_per_s"] = speeds
    return result


def decode_batches(pairs, dicts, count, device, batch_size=64):
    import torch

    src_dict, _ = dicts
    g = torch.Generator().manual_seed(2)
    picks = torch.randperm(len(pairs), generator=g)[:count].tolist()
    batches = []
    for begin in range(0, len(picks), batch_size):
        group = sorted((pairs[i][0] for i in picks[begin:begin + batch_size]), reverse=True)
        width = max(group) + 1
        src = torch.full((len(group), width), src_dict.pad())
        for row, length in enumerate(group):
            src[row, width - length - 1:-1] = zipf_ids(g, length, len(src_dict), src_dict.nspecial)
            src[row, -1] = src_dict.eos()
        batches.append(to_device({"net_input": {"src_tokens": src,
                                                "src_lengths": torch.tensor([l + 1 for l in group])},
                                  "id": torch.arange(len(group))}, device))
    return batches


# -- driver -----------------------------------------------------------------------------------


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


def _child(config, connection):
    try:
        connection.send(worker(config))
    except BaseException as err:  # reported in the table, the grid goes on
        connection.send(dict(config, error=f"{type(err).__name__}: {err}"))


def run_worker(config):
    """One configuration in a forked process: its peak RSS is its own, and fairseq's
    imports (done once in the parent before forking) are not paid per configuration."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(config, send))
    process.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = dict(config, error="the worker died (out of memory?)")
    process.join()
    if process.exitcode not in (0, None) and "error" not in result:
        result = dict(config, error=f"the worker exited with {process.exitcode}")
    return result


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
