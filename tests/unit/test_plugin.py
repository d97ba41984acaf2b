"""The package as fairseq sees it: cheap imports, the user dir, safe checkpoint loading."""

import argparse
import io
import json
import subprocess
import sys

import numpy as np
import torch

from tests.helpers import REPO, command, run


def test_import_does_no_heavy_work():
    # fairseq imports the user dir in every worker: no fastText, FAISS, SentencePiece,
    # sacremoses or torchaudio at import, and no CUDA initialisation.
    probe = (
        "import sys, json, torch, fairseq_vmf;"
        "heavy = ['fasttext', 'faiss', 'sentencepiece', 'sacremoses', 'torchaudio'];"
        "print(json.dumps({'loaded': [m for m in heavy if m in sys.modules],"
        " 'cuda': torch.cuda.is_initialized()}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"loaded": [], "cuda": False}


def test_every_module_is_imported_by_the_package():
    probe = (
        "import sys, pathlib, fairseq_vmf;"
        "root = pathlib.Path(fairseq_vmf.__file__).parent;"
        "mods = ['fairseq_vmf.' + '.'.join(p.relative_to(root).with_suffix('').parts) for p in root.rglob('*.py')];"
        "mods = [m.removesuffix('.__init__') for m in mods if not m.startswith('fairseq_vmf.cli')];"
        "print([m for m in mods if m not in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_fairseq_train_accepts_the_user_dir():
    result = run([command("fairseq-train"), "--user-dir", "fairseq_vmf", "--help"])
    assert result.returncode == 0, result.stderr
    assert "--user-dir" in result.stdout and "--arch" in result.stdout


def test_user_dir_command_prints_the_package_folder():
    result = run([command("fairseq-vmf-user-dir")])
    assert result.stdout.strip() == str(REPO / "fairseq_vmf")


def fairseq_like_checkpoint() -> bytes:
    """What fairseq 0.12 pickles: a Namespace model config and numpy metric state."""
    state = {
        "args": None,
        "cfg": {"model": argparse.Namespace(arch="transformer", dropout=0.1)},
        "model": {"w": torch.zeros(2)},
        "extra_state": {
            "metrics": {"_bleu_counts": np.array([3, 2, 1, 0], dtype=np.int64), "loss": np.float64(1.5)},
            "ratio": np.array([0.5], dtype=np.float32),
        },
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def test_fairseq_checkpoint_loads_with_weights_only_after_import(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(fairseq_like_checkpoint())
    load = f"import torch; s = torch.load({str(path)!r}); print(s['cfg']['model'].arch, s['extra_state']['metrics']['loss'])"
    without = subprocess.run([sys.executable, "-c", load], cwd=REPO, capture_output=True, text=True)
    assert without.returncode != 0 and "Weights only load failed" in without.stderr
    with_plugin = subprocess.run(
        [sys.executable, "-c", "import fairseq_vmf; " + load], cwd=REPO, capture_output=True, text=True
    )
    assert with_plugin.returncode == 0, with_plugin.stderr
    assert with_plugin.stdout.split() == ["transformer", "1.5"]
