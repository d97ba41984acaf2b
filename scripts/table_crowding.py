#!/usr/bin/env python
"""How crowded a target table is: the mean, over word rows, of the cosine to the nearest
other word row (special rows excluded). Crowded tables make neighbours hard to tell apart
for a kNN decoder.

  usage: scripts/table_crowding.py TABLE.npz [TABLE.npz ...]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fairseq_vmf.embeddings.target_table import TargetEmbeddingTable, is_special  # noqa: E402


def mean_nearest_cosine(vectors: np.ndarray, chunk: int = 2048) -> float:
    """Mean over rows of max_{j != i} cos(row_i, row_j), rows unit-norm, in chunks."""
    best = []
    for begin in range(0, len(vectors), chunk):
        scores = vectors[begin:begin + chunk] @ vectors.T
        scores[np.arange(scores.shape[0]), np.arange(begin, begin + scores.shape[0])] = -np.inf
        best.append(scores.max(axis=1))
    return float(np.concatenate(best).mean())


def main(paths) -> None:
    for path in paths:
        table = TargetEmbeddingTable.load(Path(path))
        words = np.array([not is_special(s) for s in table.symbols])
        print(f"{path}: {words.sum()} word rows, mean cosine to the nearest other word "
              f"{mean_nearest_cosine(table.vectors[words].astype(np.float64)):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
