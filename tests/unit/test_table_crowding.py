"""scripts/table_crowding.py: mean nearest-neighbour cosine, by hand."""

import importlib.util

import numpy as np
import pytest

from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("table_crowding", REPO / "scripts" / "table_crowding.py")
table_crowding = importlib.util.module_from_spec(spec)
spec.loader.exec_module(table_crowding)


@pytest.mark.parametrize("chunk", [1, 2, 10])
def test_mean_nearest_cosine_by_hand(chunk):
    rows = np.array([[1.0, 0, 0], [0.8, 0.6, 0], [0, 0, 1.0]])
    # nearest others: row0 -> row1 (0.8), row1 -> row0 (0.8), row2 -> 0 (both orthogonal)
    assert table_crowding.mean_nearest_cosine(rows, chunk) == pytest.approx((0.8 + 0.8 + 0.0) / 3)
