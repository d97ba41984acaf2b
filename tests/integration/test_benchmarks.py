"""The measurement scripts: the training/decoding benchmark and the time-to-quality plot."""

import json
import sys

from tests.helpers import run


def test_training_benchmark_reports_every_system_with_ratios(small_raw_dir, tmp_path):
    out = tmp_path / "bench"
    result = run([sys.executable, "scripts/benchmark_training.py", "--out", str(out), "--data", str(small_raw_dir),
                  "--vocab", "3000", "--bodies", "transformer_small", "--systems", "softmax,adaptive,vmf",
                  "--steps", "1", "--warmup", "0", "--max-tokens", "256", "--decode-sentences", "4",
                  "--decode-length", "3", "--decode-repeats", "2",
                  "--backends", "torch,faiss_flat"])
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.with_suffix(".json").read_text())
    rows = {r["system"]: r for r in report["results"]}
    assert set(rows) == {"softmax", "adaptive", "vmf"} and not any("error" in r for r in rows.values())
    assert rows["softmax"]["output_layer_parameters"] == 3000 * 256  # tied V x d matrix
    assert rows["vmf"]["output_layer_parameters"] == 256 * 300 + 300  # d -> table dim projection
    for row in rows.values():
        assert row["train_tokens_per_s"] > 0 and row["train_memory_mb"] > 0
    assert set(rows["vmf"]["decode_sentences_per_s"]) == {"beam1.torch", "beam5.torch", "beam1.faiss_flat",
                                                          "beam5.faiss_flat"}
    assert set(rows["softmax"]["decode_sentences_per_s"]) == {"beam1.stock", "beam5.stock"}
    table = out.with_suffix(".md").read_text()
    assert "| transformer_small | 3,000 | softmax |" in table and "1.00x" in table
    assert out.with_suffix(".png").stat().st_size > 1000
    assert report["meta"]["decode_repeats"] == 2

    # a second run merges with the first into one table: ratios stay within each run
    second = tmp_path / "bench_b"
    result = run([sys.executable, "scripts/benchmark_training.py", "--out", str(second), "--data", str(small_raw_dir),
                  "--vocab", "5000", "--bodies", "transformer_small", "--systems", "softmax,cosine",
                  "--steps", "1", "--warmup", "0", "--max-tokens", "256", "--no-decode", "--rounds", "3"])
    assert result.returncode == 0, result.stderr[-3000:]
    rounds = {r["system"]: r for r in json.loads(second.with_suffix(".json").read_text())["results"]}
    for row in rounds.values():  # medians over three worker rounds, each round's rate kept
        assert len(row["train_tokens_per_s_rounds"]) == 3
        assert row["train_tokens_per_s"] == sorted(row["train_tokens_per_s_rounds"])[1]
    merged = tmp_path / "merged"
    result = run([sys.executable, "scripts/benchmark_training.py", "--out", str(merged), "--from-json",
                  str(out.with_suffix(".json")), str(second.with_suffix(".json"))])
    assert result.returncode == 0, result.stderr[-3000:]
    table = merged.with_suffix(".md").read_text()
    assert "run 1: `python scripts/benchmark_training.py --out" in table and "run 2: " in table
    assert "| transformer_small | 5,000 | cosine |" in table and "| transformer_small | 3,000 | vmf |" in table
    cosine_row = next(line for line in table.splitlines() if "| 5,000 | cosine |" in line).split(" | ")
    assert "–" in cosine_row[3] and "x (" in cosine_row[4]  # throughput and ratio ranges over rounds
    softmax_rows = [line.split(" | ") for line in table.splitlines() if " | softmax | " in line]
    assert [(row[1], row[4], row[6]) for row in softmax_rows] == [("3,000", "1.00x", "1.00x"), ("5,000", "1.00x", "1.00x")]
    assert merged.with_suffix(".png").stat().st_size > 1000


def test_training_benchmark_names_a_bad_option(tmp_path):
    result = run([sys.executable, "scripts/benchmark_training.py", "--out", str(tmp_path / "b"),
                  "--bodies", "gru"])
    assert result.returncode != 0
    assert "--bodies: unknown 'gru'" in result.stderr
    result = run([sys.executable, "scripts/benchmark_training.py", "--out", str(tmp_path / "b"), "--steps", "0"])
    assert result.returncode != 0 and "--steps must be >= 1, got 0" in result.stderr
    (tmp_path / "other.json").write_text("{}")
    result = run([sys.executable, "scripts/benchmark_training.py", "--out", str(tmp_path / "b"),
                  "--from-json", str(tmp_path / "other.json")])
    assert result.returncode != 0 and "other.json: not a benchmark report" in result.stderr
    (tmp_path / "earlier.json").write_text("{}")
    result = run([sys.executable, "scripts/benchmark_training.py", "--out", str(tmp_path / "earlier")])
    assert result.returncode != 0 and "earlier.json is already there" in result.stderr
    assert (tmp_path / "earlier.json").read_text() == "{}"


LOG = """\
2026-11-24 21:16:20 | INFO | fairseq_cli.train | start
2026-11-24 21:19:37 | INFO | valid | epoch 001 | valid on 'valid' subset | loss 7.1 | bleu 0.5 | wps 1082.6 | num_updates 125
2026-11-24 21:20:00 | INFO | train | epoch 001 | loss 7.2 | wall 220
2026-11-24 21:26:20 | INFO | valid | epoch 002 | valid on 'valid' subset | loss 6.4 | bleu 8.16 | wps 1235.3 | num_updates 250 | best_bleu 8.16
"""


def test_time_to_quality_reads_fairseq_logs(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(LOG)
    out = tmp_path / "ttq"
    result = run([sys.executable, "scripts/plot_time_to_quality.py", "--out", str(out), f"vmf={log}"])
    assert result.returncode == 0, result.stderr[-2000:]
    points = json.loads(out.with_suffix(".json").read_text())["vmf"]
    assert points == [dict(minutes=3.28, epoch=1, updates=125, bleu=0.5),
                      dict(minutes=10.0, epoch=2, updates=250, bleu=8.16)]
    assert out.with_suffix(".png").is_file()
    missing = run([sys.executable, "scripts/plot_time_to_quality.py", "--out", str(out), f"vmf={tmp_path / 'no.log'}"])
    assert missing.returncode != 0 and "vmf: no log file" in missing.stderr


def test_benchmark_workers_are_spawned_on_cuda_and_forked_on_cpu(monkeypatch):
    # a forked child cannot use CUDA once the parent has touched it (every configuration
    # failed that way on an H200); CPU keeps fork so fairseq's imports are paid once
    from tests.helpers import REPO
    sys.path.insert(0, str(REPO / "scripts"))
    import benchmark_measure

    methods = []

    class Stop(Exception):
        pass

    def get_context(method):
        methods.append(method)
        raise Stop

    monkeypatch.setattr(benchmark_measure.multiprocessing, "get_context", get_context)
    for device in ("cuda", "cuda:1", "cpu"):
        try:
            benchmark_measure.run_worker({"device": device})
        except Stop:
            pass
    assert methods == ["spawn", "spawn", "fork"]
