"""Two CPU training processes (gloo) against one process that sees the whole batch.

fairseq gives each rank its own shard of every update's batches and sums gradients and
statistics over ranks; two ranks with ``--update-freq 1`` must therefore train exactly
like one process with ``--update-freq 2``: same parameters after the update (dropout 0),
same logged training and validation statistics.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import fairseq_vmf  # noqa: F401  (allow-lists fairseq's checkpoint types for torch.load)
from tests.helpers import REPO, TINY_TRANSFORMER, command, run

pytestmark = pytest.mark.slow

TIMING = {"wps", "ups", "wall", "train_wall", "gb_free", "cuda_gb_allocated", "cuda_gb_reserved", "cuda_gb_free",
          # per validation batch averages: each rank validates its half in half as many batches
          "valid_wps", "valid_wpb", "valid_bsz"}
SOFTMAX_BODY = ["--arch", "transformer", *TINY_TRANSFORMER[2:], "--share-decoder-input-output-embed"]
PLIF_BODY = ["--arch", "plif_transformer_small", *TINY_TRANSFORMER[2:], "--share-decoder-input-output-embed"]

SYSTEMS = {
    "vmf": ["--task", "translation_vmf", *TINY_TRANSFORMER, "--tie-target-embeddings", "--criterion", "vmf",
            "--eval-bleu", "--eval-bleu-detok", "moses", "--eval-bleu-args", '{"beam": 1, "max_len_b": 5}'],
    "cosine": ["--task", "translation_vmf", *TINY_TRANSFORMER, "--criterion", "cosine"],
    "l2": ["--task", "translation_vmf", *TINY_TRANSFORMER, "--criterion", "l2"],
    "max_margin": ["--task", "translation_vmf", *TINY_TRANSFORMER, "--criterion", "max_margin"],
    "tied_augmented_ce": ["--task", "translation", *SOFTMAX_BODY, "--criterion", "tied_augmented_ce"],
    "plif": ["--task", "translation", *PLIF_BODY, "--criterion", "label_smoothed_cross_entropy",
             "--label-smoothing", "0.1"],
}


def args_for(prepared, save_dir, system):
    table = ["--target-embeddings", str(prepared / "embeddings" / "fasttext.fr.npz")] if system in (
        "vmf", "cosine", "l2", "max_margin") else []
    return [str(prepared / "bin"), "--user-dir", "fairseq_vmf", *table, *SYSTEMS[system],
            "--optimizer", "adam", "--lr", "1e-3", "--max-tokens", "500", "--dropout", "0", "--max-update", "1",
            "--save-dir", str(save_dir), "--no-progress-bar", "--num-workers", "0", "--seed", "3",
            "--log-format", "json", "--log-interval", "1", "--no-epoch-checkpoints", "--max-tokens-valid", "500"]


def records(output, kind):
    """The json log records of ``kind`` ('train_inner' or 'valid'), timing fields dropped."""
    found = []
    for line in output.splitlines():
        if f"| {kind} |" in line and "{" in line:
            record = json.loads(line[line.index("{"):])
            found.append({k: v for k, v in record.items() if k not in TIMING})
    return found


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_two_gloo_ranks_train_like_one_process_with_the_whole_batch(prepared, tmp_path, system):
    # the one-process reference runs beside the two ranks (independent runs)
    single_log = open(tmp_path / "single.log", "w")  # a file, not a pipe: nobody reads it while it runs
    single_run = subprocess.Popen([command("fairseq-train"), *args_for(prepared, tmp_path / "single", system),
                                   "--update-freq", "2"], cwd=REPO, stdout=single_log, stderr=subprocess.STDOUT)
    env = {**os.environ, "LOG_DIR": str(tmp_path / "logs"), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    ranks = run(["bash", "scripts/train_cpu_processes.sh", "2", *args_for(prepared, tmp_path / "ranks", system)], env=env)
    single_run.wait()
    single_log.close()
    single = subprocess.CompletedProcess(single_run.args, single_run.returncode, (tmp_path / "single.log").read_text(), "")
    assert single.returncode == 0, single.stdout[-3000:]
    assert ranks.returncode == 0, ranks.stderr[-3000:] + (tmp_path / "logs" / "rank1.log").read_text()[-2000:]
    assert "distributed init (rank 1)" in (tmp_path / "logs" / "rank1.log").read_text()

    one, two = (single.stdout + single.stderr), (ranks.stdout + ranks.stderr)
    for kind in ("train_inner", "valid"):
        expected, got = records(one, kind), records(two, kind)
        assert expected and got == expected, (kind, expected, got)
    if system in ("vmf", "cosine", "l2", "max_margin"):
        assert {"cos", "kappa"} <= set(records(two, "train_inner")[0])
        assert "valid_nn_acc" in records(two, "valid")[0]
    if system == "vmf":
        assert "valid_bleu" in records(two, "valid")[0]

    states = [torch.load(path / "checkpoint_last.pt", map_location="cpu")["model"]
              for path in (tmp_path / "single", tmp_path / "ranks")]
    assert states[0].keys() == states[1].keys()
    for name, value in states[0].items():
        torch.testing.assert_close(states[1][name], value, rtol=1e-5, atol=1e-6, msg=name)
