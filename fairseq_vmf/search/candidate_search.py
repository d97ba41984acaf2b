"""Nearest target embeddings of decoder outputs, behind one small interface.

A backend is built once per table (and device) and answers ``search(queries, k)`` with the
k rows of largest inner product per query, as (scores, indices), best first. Rows listed
as never predicted (padding, ``<s>``, fillers) are never returned. Inner product is the
right ranking for the vMF density (kappa is constant per query) and for cosine.
"""

import logging
from typing import Sequence, Tuple

import torch

logger = logging.getLogger(__name__)

# GPU FAISS cannot select more than this many neighbours (GPU_MAX_SELECTION_K).
FAISS_GPU_MAX_K = 2048


class CandidateSearch:
    """Base class: ``search(queries (N, m), k) -> (scores (N, k), indices (N, k))``."""

    name = "base"
    exact = True

    def __init__(self, table: torch.Tensor, never_predicted: Sequence[int] = ()):
        if table.dim() != 2:
            raise ValueError(f"table must be (V, m), got shape {tuple(table.shape)}")
        self.vocab_size, self.dim = int(table.size(0)), int(table.size(1))
        self.never_predicted = tuple(sorted(set(int(i) for i in never_predicted)))
        if len(self.never_predicted) >= self.vocab_size:
            raise ValueError("every table row is excluded from the search")

    def search(self, queries: torch.Tensor, k: int) -> Tuple[torch.Tensor, torch.Tensor]:
        return self._search(queries, self._checked_k(queries, k))

    def _checked_k(self, queries, k) -> int:
        """k capped at the searchable rows, after checking the arguments."""
        if queries.dim() != 2 or queries.size(1) != self.dim:
            raise ValueError(f"queries must be (N, {self.dim}), got shape {tuple(queries.shape)}")
        k = min(int(k), self.vocab_size - len(self.never_predicted))
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        return k

    def _search(self, queries, k):
        raise NotImplementedError


class TorchExactSearch(CandidateSearch):
    """Exact search with matrix products over table chunks; fastest on CPU for tables up
    to ~100k rows (FAISS flat was 3x slower for 50k x 300 here). Memory N x chunk_size.

    Chunks of 16k rows keep the N x chunk scores in cache for the passes after the
    product (top-k, exp-sum, done in place): a 1M-row step of 320 queries went from 3.38 s
    with 64k-row chunks and logsumexp to 2.78 s (scripts/benchmark_knn.py, 2 CPU cores).
    Excluded rows at the start and end of the table (specials, fairseq's padding fillers)
    are skipped, not masked.
    """

    name = "torch"

    def __init__(self, table, never_predicted=(), chunk_size: int = 16384):
        super().__init__(table, never_predicted)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        # float32 scores even for a half-precision model, like the special columns
        self.table = table if table.dtype in (torch.float32, torch.float64) else table.float()
        self.chunk_size = chunk_size
        excluded = set(self.never_predicted)
        self.first = 0
        while self.first in excluded:
            self.first += 1
        self.end = self.vocab_size
        while self.end - 1 in excluded:
            self.end -= 1
        inner = torch.tensor([i for i in self.never_predicted if self.first <= i < self.end], dtype=torch.long)
        # per chunk start: the excluded rows inside it, as chunk-local columns
        self.inner_excluded = {}
        for begin in range(self.first, self.end, chunk_size):
            local = inner[(inner >= begin) & (inner < begin + chunk_size)] - begin
            if local.numel():
                self.inner_excluded[begin] = local.to(table.device)

    def _search(self, queries, k):
        scores, indices, _ = self._scan(queries, k, with_log_partition=False)
        return scores, indices

    def search_with_log_partition(self, queries, k):
        """``search`` plus log sum_j exp(queries . table_j) over the searchable rows, from
        the same pass over the table (the exact vMF normaliser without a second scan)."""
        return self._scan(queries, self._checked_k(queries, k), with_log_partition=True)

    def _scan(self, queries, k, with_log_partition):
        queries = queries.to(self.table.dtype)
        best_scores = best_indices = None
        log_total = queries.new_full((queries.size(0),), float("-inf")) if with_log_partition else None
        for begin in range(self.first, self.end, self.chunk_size):
            scores = queries @ self.table[begin:min(begin + self.chunk_size, self.end)].t()
            if begin in self.inner_excluded:
                scores.index_fill_(1, self.inner_excluded[begin], float("-inf"))
            top_scores, top_indices = scores.topk(min(k, scores.size(1)), dim=1)
            top_indices = top_indices + begin
            if with_log_partition:
                # log-sum-exp shifted by the chunk's best score, which top-k already found;
                # in place: no N x chunk temporaries
                shift = top_scores[:, :1]
                shift = torch.where(torch.isfinite(shift), shift, torch.zeros_like(shift))
                chunk_total = scores.sub_(shift).exp_().sum(dim=1).log_() + shift[:, 0]
                log_total = torch.logaddexp(log_total, chunk_total)
            if best_scores is None:
                best_scores, best_indices = top_scores, top_indices
            else:
                merged_scores = torch.cat([best_scores, top_scores], dim=1)
                merged_indices = torch.cat([best_indices, top_indices], dim=1)
                best_scores, order = merged_scores.topk(min(k, merged_scores.size(1)), dim=1)
                best_indices = merged_indices.gather(1, order)
        return best_scores.float(), best_indices, (log_total.float() if with_log_partition else None)


def _import_faiss():
    try:
        import faiss  # noqa: F401
        import faiss.contrib.torch_utils  # noqa: F401  (lets indexes take torch tensors)
    except ImportError as err:
        raise ImportError(
            "the FAISS backends need the faiss package: pip install faiss-cpu "
            "(or the 'gpu' extra of fairseq_vmf for faiss-gpu)"
        ) from err
    return faiss


def faiss_gpu_available() -> bool:
    """Whether this faiss build has GPU support and sees a GPU."""
    faiss = _import_faiss()
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


class _FaissSearch(CandidateSearch):
    """Shared FAISS plumbing: the index holds only the allowed rows; results map back."""

    def __init__(self, table, never_predicted=(), use_gpu: bool = False):
        super().__init__(table, never_predicted)
        self.faiss = _import_faiss()
        allowed = torch.ones(self.vocab_size, dtype=torch.bool)
        if self.never_predicted:
            allowed[list(self.never_predicted)] = False
        self.row_ids = allowed.nonzero(as_tuple=True)[0].to(table.device)
        vectors = table.detach()[self.row_ids].float().cpu().contiguous()
        self.index = self._make_index(vectors)
        self.on_gpu = False
        if use_gpu and table.is_cuda:
            self._move_to_gpu(table.device)

    def _move_to_gpu(self, device: torch.device) -> None:
        """Put the index on ``device`` if FAISS can; otherwise say so and stay on CPU."""
        if not faiss_gpu_available():
            logger.info("FAISS GPU support not available (faiss-cpu build or no GPU): searching on CPU")
            return
        self.resources = self.faiss.StandardGpuResources()
        self.index = self.faiss.index_cpu_to_gpu(self.resources, device.index or 0, self.index)
        self.on_gpu = True

    def _make_index(self, vectors):
        raise NotImplementedError

    def _search(self, queries, k):
        if self.on_gpu and k > FAISS_GPU_MAX_K:
            raise ValueError(f"GPU FAISS returns at most {FAISS_GPU_MAX_K} neighbours, asked for {k}")
        device = queries.device
        q = queries.detach().float()
        q = q.contiguous() if self.on_gpu else q.cpu().contiguous()
        scores, positions = self.index.search(q, k)
        positions = positions.to(self.row_ids.device)
        indices = self.row_ids[positions.clamp_min(0)]
        scores = scores.masked_fill(positions.to(scores.device) < 0, float("-inf"))
        return scores.to(device), indices.to(device)


class FaissFlatSearch(_FaissSearch):
    """Exact inner-product search with ``IndexFlatIP`` (CPU, or GPU when available)."""

    name = "faiss_flat"

    def _make_index(self, vectors):
        index = self.faiss.IndexFlatIP(self.dim)
        index.add(vectors)
        return index


class FaissHnswSearch(_FaissSearch):
    """Approximate inner-product search with an HNSW graph, for very large tables.

    Args:
        neighbours: graph degree M (32).
        ef_search: candidate list size at query time (128); larger is more exact.
    """

    name = "faiss_hnsw"
    exact = False

    def __init__(self, table, never_predicted=(), use_gpu=False, neighbours: int = 32,
                 ef_construction: int = 80, ef_search: int = 128):
        self.neighbours, self.ef_construction, self.ef_search = neighbours, ef_construction, ef_search
        # HNSW has no GPU implementation in FAISS: it always runs on CPU.
        super().__init__(table, never_predicted, use_gpu=False)

    def _make_index(self, vectors):
        index = self.faiss.IndexHNSWFlat(self.dim, self.neighbours, self.faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        index.hnsw.efSearch = self.ef_search
        index.add(vectors)
        return index

    def _search(self, queries, k):
        self.index.hnsw.efSearch = max(self.ef_search, k)
        return super()._search(queries, k)


BACKENDS = ("auto", "torch", "faiss_flat", "faiss_hnsw")
# Above this many rows, 'auto' on CPU switches from the exact torch search to HNSW.
AUTO_APPROXIMATE_ROWS = 500_000


def build_candidate_search(table: torch.Tensor, never_predicted: Sequence[int] = (), backend: str = "auto",
                           full_pass: bool = False):
    """The search backend for ``table`` (on its device).

    ``auto`` chooses by what the score needs. ``full_pass`` (``--knn-score vmf``: the exact
    normaliser reads every row anyway): the torch search, whose one scan returns the
    candidates and the normaliser together; an index would add its search to that scan
    (results/knn_1m_cpu.md: at 1M rows the fused torch scan takes 2.8 s a step, the
    normaliser scan alone 2.6 s, FAISS flat 13.9 s). Otherwise (``vmf_topk``, ``cosine``):
    on a GPU, FAISS flat search when faiss-gpu is installed, else torch; on CPU, torch up to
    ``AUTO_APPROXIMATE_ROWS`` rows and HNSW beyond.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown kNN backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "auto":
        if full_pass:
            backend = "torch"
        elif table.is_cuda:
            try:
                backend = "faiss_flat" if faiss_gpu_available() else "torch"
            except ImportError:
                backend = "torch"
        else:
            backend = "faiss_hnsw" if table.size(0) > AUTO_APPROXIMATE_ROWS else "torch"
    if backend == "torch":
        return TorchExactSearch(table, never_predicted)
    if backend == "faiss_flat":
        return FaissFlatSearch(table, never_predicted, use_gpu=True)
    return FaissHnswSearch(table, never_predicted)
