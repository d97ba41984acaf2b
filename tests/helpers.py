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
