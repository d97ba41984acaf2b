"""The kNN beam-search generator against brute force and fairseq's stock beam search."""

import argparse
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import fairseq_vmf  # noqa: F401
from fairseq.data import Dictionary
from fairseq.models import ARCH_MODEL_REGISTRY
from fairseq.sequence_generator import SequenceGenerator
from fairseq_vmf.generation import ContinuousSequenceGenerator
from fairseq_vmf.generation.continuous_generator import remove_repeated_tokens
from fairseq_vmf.profiling import LargestTensor

DIM = 8


def make_model(target_words=40, seed=0, arch="continuous_transformer_small"):
    torch.manual_seed(seed)
    src = Dictionary()
    for i in range(20):
        src.add_symbol(f"s{i}")
    tgt = Dictionary()
    for i in range(target_words):
        tgt.add_symbol(f"t{i}")
    tgt.pad_to_multiple_(8)
    table = nn.functional.normalize(torch.randn(len(tgt), DIM), dim=1)
    task = SimpleNamespace(source_dictionary=src, target_dictionary=tgt, target_embeddings=table)
    dims = dict(encoder_embed_dim=16, decoder_embed_dim=16, encoder_ffn_embed_dim=32, decoder_ffn_embed_dim=32,
                encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
                dropout=0.0) if "transformer" in arch else dict(
                encoder_embed_dim=16, encoder_hidden_size=16, decoder_embed_dim=16, decoder_hidden_size=16,
                decoder_out_embed_dim=16, dropout=0.0)
    model = ARCH_MODEL_REGISTRY[arch].build_model(argparse.Namespace(arch=arch, **dims), task)
    # scale outputs up so that the distributions are peaked, as in a trained model
    with torch.no_grad():
        model.decoder.output_projection.projection.weight.mul_(6.0)
    return model.eval(), src, tgt


def make_sample(src, bsz=4, length=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(4, len(src), (bsz, length), generator=g)
    tokens[:, -1] = src.eos()
    return {"id": torch.arange(bsz), "net_input": {"src_tokens": tokens, "src_lengths": torch.full((bsz,), length)}}


def greedy_by_hand(model, tgt, sample, max_len):
    never = list(model.decoder.output_projection.never_predicted)
    table = model.get_target_embeddings()
    outputs = []
    for row in range(sample["net_input"]["src_tokens"].size(0)):
        src = sample["net_input"]["src_tokens"][row:row + 1]
        prev = torch.tensor([[tgt.eos()]])
        words = []
        for _ in range(max_len + 1):
            vectors, _ = model(src, torch.tensor([src.size(1)]), prev)
            scores = vectors[0, -1] @ table.t()
            scores[never] = float("-inf")
            word = int(scores.argmax())
            words.append(word)
            if word == tgt.eos() or len(words) == max_len + 1:
                break
            prev = torch.cat([prev, torch.tensor([[word]])], dim=1)
        if words[-1] != tgt.eos():
            words[-1] = tgt.eos()  # fairseq forces </s> at the maximum length
        outputs.append(words)
    return outputs


@pytest.mark.parametrize("arch", ["continuous_transformer_small", "continuous_lstm_small"])
def test_beam_one_is_brute_force_greedy_nearest_neighbour_decoding(arch):
    model, src, tgt = make_model(arch=arch)
    sample = make_sample(src)
    generator = ContinuousSequenceGenerator([model], tgt, beam_size=1, max_len_a=0, max_len_b=7)
    with torch.no_grad():
        hypotheses = generator.generate([model], sample)
    expected = greedy_by_hand(model, tgt, sample, max_len=7)
    for hypothesis, words in zip(hypotheses, expected):
        assert hypothesis[0]["tokens"].tolist() == words


@pytest.mark.parametrize("options", [
    dict(beam_size=4),
    dict(beam_size=3, len_penalty=0.5, unk_penalty=1.0, min_len=3),
    dict(beam_size=2, normalize_scores=False, max_len_b=4),
])
def test_n_best_equals_stock_beam_search_on_the_dense_distribution(options):
    model, src, tgt = make_model()
    sample = make_sample(src, bsz=5)
    kwargs = dict(max_len_a=0, max_len_b=8)
    kwargs.update(options)
    stock = SequenceGenerator([model], tgt, **kwargs)
    ours = ContinuousSequenceGenerator([model], tgt, **kwargs)
    with torch.no_grad():
        expected = stock.generate([model], sample)
        found = ours.generate([model], sample)
    for want, got in zip(expected, found):
        assert len(want) == len(got) == kwargs["beam_size"]
        for a, b in zip(want, got):
            assert a["tokens"].tolist() == b["tokens"].tolist()
            assert float(a["score"]) == pytest.approx(float(b["score"]), abs=1e-4)
            torch.testing.assert_close(a["positional_scores"], b["positional_scores"], rtol=1e-4, atol=1e-4)


def test_no_repeat_ngram_blocking_removes_repeated_bigrams():
    # fairseq 0.12's own CPU blocker compares against the padded end of its token buffer
    # and blocks nothing (its hypotheses here repeat bigrams); ours blocks on real ids.
    model, src, tgt = make_model()
    sample = make_sample(src, bsz=5)
    ours = ContinuousSequenceGenerator([model], tgt, beam_size=4, max_len_a=0, max_len_b=8, no_repeat_ngram_size=2)
    plain = ContinuousSequenceGenerator([model], tgt, beam_size=4, max_len_a=0, max_len_b=8)
    with torch.no_grad():
        blocked = ours.generate([model], sample)
        unblocked = plain.generate([model], sample)

    def repeats(tokens):
        bigrams = list(zip(tokens[:-1], tokens[1:]))
        return len(bigrams) != len(set(bigrams))

    assert not any(repeats(h["tokens"].tolist()) for hs in blocked for h in hs)
    assert any(repeats(h["tokens"].tolist()) for hs in unblocked for h in hs)


def test_prefix_tokens_take_the_dense_path_and_match_stock():
    model, src, tgt = make_model()
    sample = make_sample(src, bsz=3)
    prefix = torch.tensor([[5, 6], [7, 8], [9, 10]])
    stock = SequenceGenerator([model], tgt, beam_size=3, max_len_a=0, max_len_b=6)
    ours = ContinuousSequenceGenerator([model], tgt, beam_size=3, max_len_a=0, max_len_b=6)
    with torch.no_grad():
        expected = stock.generate([model], sample, prefix_tokens=prefix)
        found = ours.generate([model], sample, prefix_tokens=prefix)
    for want, got in zip(expected, found):
        assert [h["tokens"].tolist() for h in want] == [h["tokens"].tolist() for h in got]
        assert got[0]["tokens"][:2].tolist() == want[0]["tokens"][:2].tolist()


def score_by_hand(vectors, table, word, tgt, score, k=2):
    """The generator's score of ``word`` for one predicted vector, from its definition: vmf_topk
    renormalises over </s>, <unk> and the k best words; cosine is cos - 1."""
    dots = vectors @ table.t()
    if score == "cosine":
        return float(dots[word] / vectors.norm()) - 1.0
    words = dots.clone()
    words[: tgt.nspecial] = float("-inf")
    words[[i for i, s in enumerate(tgt.symbols) if s.startswith("madeupword")]] = float("-inf")
    candidates = set(words.topk(k).indices.tolist()) | {tgt.eos(), tgt.unk()}
    assert word in candidates
    return float(dots[word] - torch.logsumexp(dots[sorted(candidates)], dim=0))


@pytest.mark.parametrize("score", ["vmf_topk", "cosine"])
def test_other_scores_keep_the_greedy_choice_with_their_own_values(score):
    model, src, tgt = make_model()
    sample = make_sample(src)
    reference = ContinuousSequenceGenerator([model], tgt, beam_size=1, max_len_a=0, max_len_b=6)
    other = ContinuousSequenceGenerator([model], tgt, beam_size=1, max_len_a=0, max_len_b=6, knn_score=score)
    with torch.no_grad():
        a = reference.generate([model], sample)
        b = other.generate([model], sample)
    assert [h[0]["tokens"].tolist() for h in a] == [h[0]["tokens"].tolist() for h in b]
    # and each step's score is the score's own value for the chosen word, not the vmf one
    table = model.get_target_embeddings()
    with torch.no_grad():
        for row, hypotheses in enumerate(b):
            tokens = hypotheses[0]["tokens"]
            src_row = sample["net_input"]["src_tokens"][row:row + 1]
            prev = torch.cat([torch.tensor([tgt.eos()]), tokens[:-1]]).unsqueeze(0)
            vectors, _ = model(src_row, torch.tensor([src_row.size(1)]), prev)
            expected = [score_by_hand(vectors[0, t], table, int(tokens[t]), tgt, score) for t in range(len(tokens))]
            ours = hypotheses[0]["positional_scores"].tolist()
            vmf = a[row][0]["positional_scores"].tolist()
            # fairseq forces </s> at the maximum length: compare the steps the model chose
            chosen = len(tokens) if tokens.size(0) <= 6 else len(tokens) - 1
            assert ours[:chosen] == pytest.approx(expected[:chosen], abs=1e-4)
            assert ours[:chosen] != pytest.approx(vmf[:chosen], abs=1e-3)


def test_large_vocabulary_never_materialises_hypotheses_by_vocabulary():
    model, src, tgt = make_model(target_words=300_000)
    vocab = len(tgt)
    sample = make_sample(src, bsz=8, length=5)
    beam = 4
    generator = ContinuousSequenceGenerator([model], tgt, beam_size=beam, max_len_a=0, max_len_b=3, knn_score="vmf")
    with torch.no_grad():
        generator.generate([model], make_sample(src, bsz=1))  # builds the search once
        with LargestTensor() as probe:
            hypotheses = generator.generate([model], sample)
    assert len(hypotheses) == 8
    # the biggest allocation is one chunk of scores: never (bsz*beam) x V, no copy of the table
    chunk = generator.model._search.chunk_size
    assert vocab * DIM > 8 * beam * chunk and 8 * beam * vocab > 8 * beam * chunk
    assert probe.largest_elements <= 8 * beam * chunk


def test_remove_repeated_tokens():
    hypothesis = {"tokens": torch.tensor([5, 5, 6, 7, 7, 7, 2]), "positional_scores": torch.arange(7.0),
                  "attention": torch.zeros(3, 7), "alignment": torch.empty(0)}
    out = remove_repeated_tokens(hypothesis)
    assert out["tokens"].tolist() == [5, 6, 7, 2]
    assert out["positional_scores"].tolist() == [0.0, 2.0, 3.0, 6.0]
    assert out["attention"].shape == (3, 4)


@pytest.mark.parametrize("knn_k", [1, 500])
def test_any_knn_k_gives_the_stock_result(knn_k):
    # k below 2 x beam is raised to it; k above the searchable words is padded with -inf
    model, src, tgt = make_model(target_words=12)
    sample = make_sample(src, bsz=3)
    stock = SequenceGenerator([model], tgt, beam_size=4, max_len_a=0, max_len_b=6)
    ours = ContinuousSequenceGenerator([model], tgt, beam_size=4, max_len_a=0, max_len_b=6, knn_k=knn_k)
    with torch.no_grad():
        expected = stock.generate([model], sample)
        found = ours.generate([model], sample)
    for want, got in zip(expected, found):
        assert [h["tokens"].tolist() for h in want] == [h["tokens"].tolist() for h in got]


def test_half_precision_model_decodes_like_the_float32_model():
    model, src, tgt = make_model()
    sample = make_sample(src, bsz=3)
    generator = ContinuousSequenceGenerator([model], tgt, beam_size=1, max_len_a=0, max_len_b=6)
    with torch.no_grad():
        full = generator.generate([model], sample)
    import copy

    half = copy.deepcopy(model).to(torch.bfloat16)
    generator = ContinuousSequenceGenerator([half], tgt, beam_size=1, max_len_a=0, max_len_b=6)
    with torch.no_grad():
        found = generator.generate([half], sample)
    assert len(found) == 3
    for a, b in zip(full, found):
        assert torch.isfinite(b[0]["positional_scores"]).all()
        assert b[0]["positional_scores"].dtype == torch.float32  # kNN scores in float32
        # bf16 weights round the predicted vectors (~3 digits): same words, scores close
        assert a[0]["tokens"].tolist() == b[0]["tokens"].tolist()
        torch.testing.assert_close(b[0]["positional_scores"], a[0]["positional_scores"], atol=0.15, rtol=0.05)


def test_largest_tensor_probe_counts_allocations_not_views():
    table = torch.randn(1000, 30)
    with LargestTensor() as probe:
        chunk = table[:500].t()  # a view: no allocation
        scores = torch.randn(4, 30) @ chunk  # 4 x 500 floats
    assert chunk.numel() == 15000 and scores.numel() == 2000
    assert probe.largest_elements == 2000 and probe.largest_bytes == 8000
