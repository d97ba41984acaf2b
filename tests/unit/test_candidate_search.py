"""kNN backends: same top-k as brute force, excluded rows, approximate recall, auto choice."""

import logging
from types import SimpleNamespace

import pytest
import torch

from fairseq_vmf.search import candidate_search
from fairseq_vmf.search import FaissFlatSearch, FaissHnswSearch, TorchExactSearch, build_candidate_search


def unit_table(rows, dim, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(rows, dim, generator=generator), dim=1)


def brute_force(queries, table, banned, k):
    scores = queries @ table.t()
    scores[:, list(banned)] = float("-inf")
    return scores.topk(k, dim=1)


BANNED = (0, 1, 7, 8)


@pytest.mark.parametrize("backend", [
    lambda t: TorchExactSearch(t, BANNED),
    lambda t: TorchExactSearch(t, BANNED, chunk_size=37),
    lambda t: FaissFlatSearch(t, BANNED),
], ids=["torch", "torch_chunked", "faiss_flat"])
def test_exact_backends_return_the_brute_force_top_k(backend):
    table = unit_table(500, 16)
    queries = torch.randn(40, 16) * 3
    search = backend(table)
    expected_scores, expected_indices = brute_force(queries, table, BANNED, 10)
    scores, indices = search.search(queries, 10)
    assert torch.equal(indices, expected_indices)
    torch.testing.assert_close(scores, expected_scores, rtol=1e-5, atol=1e-5)
    assert not set(indices.flatten().tolist()) & set(BANNED)


def test_k_is_capped_by_the_searchable_rows_and_bad_queries_are_named():
    table = unit_table(12, 4)
    search = TorchExactSearch(table, BANNED)
    scores, indices = search.search(torch.randn(3, 4), 100)
    assert indices.shape == (3, 12 - len(BANNED))
    with pytest.raises(ValueError, match=r"queries must be \(N, 4\)"):
        search.search(torch.randn(3, 5), 2)
    with pytest.raises(ValueError, match="unknown kNN backend 'annoy'"):
        build_candidate_search(table, BANNED, "annoy")


def test_hnsw_recall_at_10_on_a_synthetic_table():
    table = unit_table(20000, 32, seed=1)
    # queries near table rows, like trained decoder outputs near their targets
    generator = torch.Generator().manual_seed(2)
    picks = torch.randint(0, 20000, (200,), generator=generator)
    queries = table[picks] * 5 + torch.randn(200, 32, generator=generator) * 2
    _, expected = brute_force(queries, table, BANNED, 10)
    _, found = FaissHnswSearch(table, BANNED).search(queries, 10)
    recall = sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(found, expected)) / expected.numel()
    assert recall >= 0.95, recall
    assert not set(found.flatten().tolist()) & set(BANNED)


def test_auto_picks_torch_for_small_cpu_tables_and_hnsw_for_huge_ones(monkeypatch):
    table = unit_table(300, 8)
    assert isinstance(build_candidate_search(table, BANNED), TorchExactSearch)
    monkeypatch.setattr(candidate_search, "AUTO_APPROXIMATE_ROWS", 100)
    assert isinstance(build_candidate_search(table, BANNED), FaissHnswSearch)
    # a score that reads every row anyway (the exact vMF normaliser) keeps the fused torch scan
    assert isinstance(build_candidate_search(table, BANNED, full_pass=True), TorchExactSearch)


def test_generator_asks_for_the_full_pass_only_for_the_exact_vmf_score(monkeypatch):
    from fairseq_vmf.generation import candidate_ensemble

    asked = []
    monkeypatch.setattr(candidate_ensemble, "build_candidate_search",
                        lambda table, never, backend, full_pass: asked.append(full_pass) or TorchExactSearch(table, never))
    from tests.unit.test_generator import make_model, make_sample
    from fairseq_vmf.generation import ContinuousSequenceGenerator

    model, src, tgt = make_model(target_words=12)
    for score in ("vmf", "vmf_topk", "cosine"):
        generator = ContinuousSequenceGenerator([model], tgt, beam_size=2, max_len_a=0, max_len_b=3, knn_score=score)
        with torch.no_grad():
            generator.generate([model], make_sample(src, bsz=2))
    assert asked == [True, False, False]


def test_faiss_flat_on_a_cpu_table_stays_on_cpu(caplog):
    with caplog.at_level(logging.INFO):
        search = FaissFlatSearch(unit_table(50, 8), BANNED, use_gpu=True)
    assert not search.on_gpu and "FAISS GPU support" not in caplog.text  # nothing to fall back from


def test_gpu_placement_falls_back_to_cpu_or_moves_the_index(caplog, monkeypatch):
    # Both branches of the GPU placement, on any machine: FAISS without GPU support
    # keeps the CPU index and says so; with it, the index is handed to index_cpu_to_gpu.
    import fairseq_vmf.search.candidate_search as module

    table = unit_table(50, 8)
    search = FaissFlatSearch(table, BANNED)
    cpu_index = search.index
    monkeypatch.setattr(module, "faiss_gpu_available", lambda: False)
    with caplog.at_level(logging.INFO):
        search._move_to_gpu(torch.device("cuda", 0))
    assert not search.on_gpu and search.index is cpu_index
    assert "FAISS GPU support not available (faiss-cpu build or no GPU): searching on CPU" in caplog.text
    queries = torch.randn(4, 8)
    assert torch.equal(search.search(queries, 5)[1], brute_force(queries, table, BANNED, 5)[1])

    moved = []
    fake_faiss = SimpleNamespace(StandardGpuResources=lambda: "resources",
                                 index_cpu_to_gpu=lambda res, dev, index: moved.append((res, dev, index)) or "gpu-index")
    monkeypatch.setattr(module, "faiss_gpu_available", lambda: True)
    monkeypatch.setattr(search, "faiss", fake_faiss)
    search._move_to_gpu(torch.device("cuda", 1))
    assert search.on_gpu and search.index == "gpu-index" and moved == [("resources", 1, cpu_index)]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device: checks the GPU path and its fallback")
def test_faiss_flat_on_gpu_or_clean_fallback(caplog):
    table = unit_table(5000, 32).cuda()
    queries = torch.randn(64, 32, device="cuda")
    with caplog.at_level(logging.INFO):
        search = build_candidate_search(table, BANNED, "faiss_flat")
    if not search.on_gpu:
        assert "FAISS GPU support not available" in caplog.text
    scores, indices = search.search(queries, 10)
    assert indices.device == queries.device
    assert torch.equal(indices, brute_force(queries, table, BANNED, 10)[1])


def test_fused_log_partition_equals_the_separate_pass():
    from fairseq_vmf.maths.vocabulary_scan import log_partition
    from fairseq_vmf.search.candidate_search import TorchExactSearch

    torch.manual_seed(4)
    table = torch.nn.functional.normalize(torch.randn(1000, 12), dim=1)
    queries = torch.randn(7, 12) * 5
    never = [0, 1, 17]
    search = TorchExactSearch(table, never, chunk_size=256)  # several chunks
    scores, ids, log_z = search.search_with_log_partition(queries, 9)
    plain_scores, plain_ids = search.search(queries, 9)
    assert torch.equal(ids, plain_ids) and torch.allclose(scores, plain_scores)
    banned = torch.zeros(1000, dtype=torch.bool)
    banned[never] = True
    assert torch.allclose(log_z, log_partition(queries, table, banned), atol=1e-5)


@pytest.mark.parametrize("chunk_size", [5, 16, 64, 4096])
def test_torch_search_with_excluded_rows_at_chunk_edges(chunk_size):
    """Excluded rows at the start and end are skipped, inner ones masked: a chunk made only
    of excluded rows, k above the chunk size and huge scores (kappa 500) stay exact."""
    from fairseq_vmf.maths.vocabulary_scan import log_partition

    table = unit_table(90, 8, seed=5)
    never = [0, 1, 2, 3, 14, 15, 16, 17, 18, 33, 85, 86, 87, 88, 89]  # 14-18: a whole 5-row chunk
    queries = torch.nn.functional.normalize(torch.randn(6, 8), dim=1) * 500
    search = TorchExactSearch(table, never, chunk_size=chunk_size)
    scores, ids, log_z = search.search_with_log_partition(queries, 12)
    expected_scores, expected_ids = brute_force(queries, table, never, 12)
    assert torch.equal(ids, expected_ids)
    torch.testing.assert_close(scores, expected_scores)
    banned = torch.zeros(90, dtype=torch.bool)
    banned[never] = True
    assert torch.isfinite(log_z).all()
    torch.testing.assert_close(log_z, log_partition(queries, table, banned), rtol=1e-6, atol=1e-4)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        TorchExactSearch(table, never, chunk_size=0)
