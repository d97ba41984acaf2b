"""Exact best-row search over the target table in vocabulary chunks.

The criteria need, per token, the table row with the largest inner product with some
query (the nearest neighbour for validation accuracy, the negative of the max-margin
loss). Scanning the table in chunks keeps memory at N x chunk_size instead of N x V.
Decoding has its own, faster search (kNN backends); this is the simple exact one.
"""

from typing import Optional, Tuple

import torch

DEFAULT_CHUNK_SIZE = 8192


@torch.no_grad()
def best_rows(
    queries: torch.Tensor,
    table: torch.Tensor,
    banned: Optional[torch.Tensor] = None,
    exclude: Optional[torch.Tensor] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """argmax_j queries[i] . table[j] over allowed j, for every row i.

    Args:
        queries: (N, m).
        table: (V, m).
        banned: optional (V,) bool, rows never returned (e.g. padding).
        exclude: optional (N,) long, per query one row not to return (its target).
        chunk_size: table rows scored at once.

    Returns:
        (scores (N,), indices (N,)); ties go to the lowest index.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    queries = queries.to(table.dtype)
    n = queries.size(0)
    best_score = queries.new_full((n,), float("-inf"))
    best_index = torch.zeros(n, dtype=torch.long, device=queries.device)
    for start in range(0, table.size(0), chunk_size):
        scores = queries @ table[start:start + chunk_size].t()  # (N, chunk)
        if banned is not None:
            scores.masked_fill_(banned[start:start + chunk_size].unsqueeze(0), float("-inf"))
        if exclude is not None:
            local = exclude - start
            inside = (local >= 0) & (local < scores.size(1))
            rows = inside.nonzero(as_tuple=True)[0]
            scores[rows, local[rows]] = float("-inf")
        chunk_score, chunk_index = scores.max(dim=1)
        better = chunk_score > best_score
        best_score = torch.where(better, chunk_score, best_score)
        best_index = torch.where(better, chunk_index + start, best_index)
    return best_score, best_index


@torch.no_grad()
def log_partition(
    queries: torch.Tensor,
    table: torch.Tensor,
    banned: Optional[torch.Tensor] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> torch.Tensor:
    """log sum_j exp(queries[i] . table[j]) over allowed rows j, in table chunks (float32).

    The normaliser of the vMF density renormalised on the table rows (log C_m cancels).
    Memory N x chunk_size; one pass over the table.
    """
    queries = queries.float()
    total = queries.new_full((queries.size(0),), float("-inf"))
    for start in range(0, table.size(0), chunk_size):
        scores = queries @ table[start:start + chunk_size].float().t()
        if banned is not None:
            scores.masked_fill_(banned[start:start + chunk_size].unsqueeze(0), float("-inf"))
        total = torch.logaddexp(total, torch.logsumexp(scores, dim=1))
    return total
