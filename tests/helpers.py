"""Paths and subprocess helpers shared by the test tiers."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MULTI30K = REPO.parent / "shared" / "data" / "multi30k"


def command(name: str) -> str:
    """Path of a console script installed beside the running interpreter."""
    return str(Path(sys.executable).parent / name)


def recipe_env(**extra) -> dict:
    """The environment for a shell recipe: this interpreter's console scripts first on PATH
    (CI runs the suite with the venv's python without activating the venv)."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", **extra}


def run(args, **kwargs) -> subprocess.CompletedProcess:
    """Run a command from the repository root, capturing text output."""
    return subprocess.run(args, cwd=kwargs.pop("cwd", REPO), capture_output=True, text=True, **kwargs)


# a tiny fastText model: 16-d, a small n-gram bucket (the default makes 2.4 GB models)
SMALL_FASTTEXT = ["--dim", "16", "--bucket", "2000", "--epoch", "5"]


def prepare(raw_dir, out, *extra) -> subprocess.CompletedProcess:
    """fairseq-vmf-prepare for en-fr on ``raw_dir`` with a 200-piece source SentencePiece."""
    return run([
        command("fairseq-vmf-prepare"), "--src", "en", "--tgt", "fr", "--raw-dir", str(raw_dir),
        "--out", str(out), "--src-spm-vocab", "200", *extra,
    ])


# a 16-d continuous Transformer that trains in seconds
TINY_TRANSFORMER = [
    "--arch", "continuous_transformer_small",
    "--encoder-layers", "1", "--decoder-layers", "1", "--encoder-embed-dim", "16", "--decoder-embed-dim", "16",
    "--encoder-ffn-embed-dim", "32", "--decoder-ffn-embed-dim", "32",
    "--encoder-attention-heads", "2", "--decoder-attention-heads", "2",
]


def train_args(prepared, save_dir, *extra):
    return [
        command("fairseq-train"), str(prepared / "bin"), "--user-dir", "fairseq_vmf",
        "--task", "translation_vmf", "--target-embeddings", str(prepared / "embeddings" / "fasttext.fr.npz"),
        "--optimizer", "adam", "--lr", "1e-3", "--max-tokens", "1000",
        "--save-dir", str(save_dir), "--no-progress-bar", "--num-workers", "0", "--seed", "3",
        "--log-format", "json", "--log-interval", "1", "--no-epoch-checkpoints",
        *extra,
    ]
