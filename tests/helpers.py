"""Paths and subprocess helpers shared by the test tiers."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MULTI30K = REPO.parent / "shared" / "data" / "multi30k"


def command(name: str) -> str:
    """Path of a console script installed beside the running interpreter."""
    return str(Path(sys.executable).parent / name)


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
