"""kNN search over the target table (torch exact, FAISS flat, FAISS HNSW); FAISS is imported lazily."""

from .candidate_search import (  # noqa: F401
    BACKENDS,
    CandidateSearch,
    FaissFlatSearch,
    FaissHnswSearch,
    TorchExactSearch,
    build_candidate_search,
)
