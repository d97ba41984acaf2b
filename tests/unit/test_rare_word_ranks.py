"""scripts/rare_word_ranks.py: the rank of the reference row among the table's rows, by hand."""

import importlib.util
import math
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))  # the script imports its sibling markdown_json
spec = importlib.util.spec_from_file_location("rare_word_ranks", REPO / "scripts" / "rare_word_ranks.py")
rare_word_ranks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rare_word_ranks)

# four unit rows on the plane: 0 deg, 30 deg, 90 deg, 180 deg
TABLE = torch.tensor([[1.0, 0.0], [math.cos(math.pi / 6), math.sin(math.pi / 6)], [0.0, 1.0], [-1.0, 0.0]])


def test_rank_counts_rows_strictly_nearer_than_the_reference():
    # a vector at 20 deg (norm 3: only the direction counts) is nearest to row 1, then row 0, row 2, row 3
    predicted = 3 * torch.tensor([[math.cos(math.pi / 9), math.sin(math.pi / 9)]] * 4)
    assert rare_word_ranks.reference_ranks(predicted, TABLE, [1, 0, 2, 3]) == [0, 1, 2, 3]


def test_summary_of_ranks():
    summary = rare_word_ranks.summarise([0, 0, 5, 40])
    assert summary == {"positions": 4, "top1": 0.5, "top10": 0.75, "median_rank": 2.5}
    assert math.isnan(rare_word_ranks.summarise([])["top1"])
