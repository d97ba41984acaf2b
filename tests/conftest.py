"""Fixtures shared by the test tiers: a small Multi30k slice for pipeline tests."""

import gzip
from pathlib import Path

import pytest

from tests.helpers import MULTI30K


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


def pytest_configure(config):
    # CI runs everything; a developer can skip the multi-process runs with -m "not slow"
    config.addinivalue_line("markers", "slow: real multi-process or killed-process runs (about a minute each)")
