"""Shared fixtures: the installed commands, and a small Multi30k slice for pipeline tests."""

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MULTI30K = REPO.parent / "shared" / "data" / "multi30k"


def command(name: str) -> str:
    """Path of a console script installed beside the running interpreter."""
    return str(Path(sys.executable).parent / name)


def run(args, **kwargs) -> subprocess.CompletedProcess:
    """Run a command from the repository root, capturing text output."""
    return subprocess.run(args, cwd=kwargs.pop("cwd", REPO), capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def multi30k_dir() -> Path:
    if not MULTI30K.is_dir():
        pytest.skip(f"Multi30k not found at {MULTI30K} (the checkout's ../shared/data)")
    return MULTI30K


@pytest.fixture(scope="session")
def small_raw_dir(tmp_path_factory, multi30k_dir) -> Path:
    """The first lines of Multi30k train (400), val and test_2016_flickr (100 each), gzipped."""
    out = tmp_path_factory.mktemp("raw")
    sizes = {"train": 400, "val": 100, "test_2016_flickr": 100}
    for stem, size in sizes.items():
        for lang in ("en", "de", "fr"):
            with gzip.open(multi30k_dir / f"{stem}.{lang}.gz", "rt", encoding="utf-8") as src:
                lines = [next(src) for _ in range(size)]
            with gzip.open(out / f"{stem}.{lang}.gz", "wt", encoding="utf-8") as dst:
                dst.writelines(lines)
    return out
