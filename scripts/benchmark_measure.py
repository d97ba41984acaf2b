"""The measurements of scripts/benchmark_training.py: training throughput, peak memory and
decoding speed of one configuration, in a fresh forked worker process."""

import multiprocessing
import os
import resource
import statistics
import time
from pathlib import Path

from benchmark_systems import (
    CONTINUOUS, build, decode_batches, make_batches, multi30k_lengths, output_layer_parameters, to_device,
)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


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


def _child(config, connection):
    try:
        connection.send(worker(config))
    except BaseException as err:  # reported in the table, the grid goes on
        connection.send(dict(config, error=f"{type(err).__name__}: {err}"))


def run_worker(config):
    """One configuration in a fresh process: its peak RSS is its own. On CPU it is forked, so
    fairseq's imports (done once in the parent) are not paid per configuration; on CUDA it is
    spawned, since a forked child cannot use CUDA once the parent has touched it."""
    cuda = str(config.get("device", "cpu")).startswith("cuda")
    context = multiprocessing.get_context("spawn" if cuda else "fork")
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
