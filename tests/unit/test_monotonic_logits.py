"""LMS-PLIF: the piecewise-linear increasing function, its custom backward, its models."""

import argparse
import math
from types import SimpleNamespace

import pytest
import torch

import fairseq_vmf  # noqa: F401
from fairseq.data import Dictionary
from fairseq.models import ARCH_MODEL_REGISTRY
from fairseq_vmf.errors import InputError
from fairseq_vmf.maths.piecewise_linear import (
    OUTSIDE,
    _bins,
    _PiecewiseLinearIncreasing,
    identity_raw_slope,
    piecewise_linear_increasing,
    piecewise_linear_reference,
)
from fairseq_vmf.modules import MonotonicLogits


def raw_for_slopes(*slopes):
    return torch.tensor([math.log(math.expm1(s)) for s in slopes])


def test_hand_computed_values_two_pieces():
    # T = 1, K = 2: bins [-1, 0) with slope 2 and [0, 1] with slope 0.5, f(-1) = -1
    raw = raw_for_slopes(2.0, 0.5)
    x = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    linear = piecewise_linear_increasing(x, raw, 1.0, "linear")
    # -3: -1 + 2 * (-2); -0.5: -1 + 2 * 0.5; 0.5: -1 + 2 * 1 + 0.5 * 0.5; 2: 1 + 0.5 * 2
    assert linear.tolist() == pytest.approx([-5.0, -1.0, 0.0, 1.0, 1.25, 1.5, 2.0], abs=1e-6)
    constant = piecewise_linear_increasing(x, raw, 1.0, "constant")
    assert constant.tolist() == pytest.approx([-1.0, -1.0, 0.0, 1.0, 1.25, 1.5, 1.5], abs=1e-6)


def test_identity_at_initialisation_with_the_paper_defaults():
    plif = MonotonicLogits()  # K = 1e5, T = 20, init_std 0
    assert plif.scaled_raw_slopes.numel() == 100_000 and plif.limit == 20.0
    x = torch.linspace(-60, 60, 100_003)
    assert torch.allclose(plif(x), x, atol=2e-4)


@pytest.mark.parametrize("outside", OUTSIDE)
def test_monotonic_for_random_slopes(outside):
    torch.manual_seed(0)
    plif = MonotonicLogits(knots=1000, limit=5.0, outside=outside, init_std=1.0)
    x = torch.linspace(-8, 8, 20_001)
    y = plif(x)
    steps = y[1:] - y[:-1]
    inside = (x[1:].abs() <= 5.0) & (x[:-1].abs() <= 5.0)
    assert (steps[inside] > 0).all()  # strictly increasing where f is learnt
    if outside == "linear":
        assert (steps > 0).all()
    else:
        assert (steps >= 0).all() and (steps[~inside] == 0).all()
    # continuous at the knots: just left and just right of each inner knot, in float64 so the
    # offsets survive (in float32 knot +- 1e-9 is the knot itself), the points fall in
    # neighbouring bins with different slopes and still meet
    knots = torch.linspace(-5, 5, 1001, dtype=torch.float64)[1:-1]
    eps = 1e-9
    slopes = plif.raw_slopes.detach().double()
    left_bins, _ = _bins(knots - eps, 5.0, 1000, outside)
    right_bins, _ = _bins(knots + eps, 5.0, 1000, outside)
    assert (right_bins == left_bins + 1).all()
    left = _PiecewiseLinearIncreasing.apply(knots - eps, slopes, 5.0, outside)
    right = _PiecewiseLinearIncreasing.apply(knots + eps, slopes, 5.0, outside)
    assert (left - right).abs().max() < 1e-8


@pytest.mark.parametrize("outside", OUTSIDE)
def test_custom_backward_equals_autograd_and_finite_differences(outside):
    torch.manual_seed(1)
    raw = (identity_raw_slope() + torch.randn(40)).requires_grad_()
    x = (torch.randn(9, 31) * 3).requires_grad_()
    grad = torch.randn(9, 31)
    ours = piecewise_linear_increasing(x, raw, 4.0, outside)
    ref = piecewise_linear_reference(x, raw, 4.0, outside)
    assert torch.allclose(ours, ref, atol=1e-5)
    ours_grads = torch.autograd.grad(ours, (x, raw), grad)
    ref_grads = torch.autograd.grad(ref, (x, raw), grad)
    for a, b in zip(ours_grads, ref_grads):
        assert torch.allclose(a, b, atol=1e-4)
    xd = (torch.randn(5, 7, dtype=torch.float64) * 3).requires_grad_()
    rd = (identity_raw_slope() + torch.randn(12, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: _PiecewiseLinearIncreasing.apply(a, b, 4.0, outside), (xd, rd))


def test_saves_only_the_logits_and_the_slopes():
    saved = []

    def pack(tensor):
        saved.append(tensor.numel())
        return tensor

    x = torch.randn(64, 500, requires_grad=True)
    raw = torch.full((1000,), identity_raw_slope(), requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        piecewise_linear_increasing(x, raw, 20.0)
    assert sum(saved) <= x.numel() + 2 * raw.numel()
    saved.clear()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        piecewise_linear_reference(x, raw, 20.0)
    assert sum(saved) > 2 * x.numel()  # what plain autograd would keep per logit


def test_lr_scale_reparametrises_without_changing_f():
    torch.manual_seed(2)
    a = MonotonicLogits(knots=50, limit=3.0, init_std=1.0)
    torch.manual_seed(2)
    b = MonotonicLogits(knots=50, limit=3.0, init_std=1.0, lr_scale=10.0)
    x = torch.randn(100) * 4
    assert torch.allclose(a(x), b(x), atol=1e-5)
    assert torch.allclose(b.scaled_raw_slopes * 10.0, a.scaled_raw_slopes)


def tiny_task():
    src, tgt = Dictionary(), Dictionary()
    for i in range(30):
        src.add_symbol(f"s{i}")
        tgt.add_symbol(f"t{i}")
    return SimpleNamespace(source_dictionary=src, target_dictionary=tgt), src, tgt


TINY_DIMS = {
    "plif_transformer_small": dict(encoder_embed_dim=16, decoder_embed_dim=16, encoder_ffn_embed_dim=32,
                                   decoder_ffn_embed_dim=32, encoder_layers=1, decoder_layers=1,
                                   encoder_attention_heads=2, decoder_attention_heads=2, dropout=0.0),
    "plif_lstm_small": dict(encoder_embed_dim=16, encoder_hidden_size=16, decoder_embed_dim=16,
                            decoder_hidden_size=16, decoder_out_embed_dim=16, dropout=0.0),
}


def build(arch, **extra):
    task, src, tgt = tiny_task()
    args = argparse.Namespace(arch=arch, criterion="cross_entropy", share_decoder_input_output_embed=True, plif_knots=1000, **TINY_DIMS[arch],
                              **extra)
    return ARCH_MODEL_REGISTRY[arch].build_model(args, task), src, tgt


def batch(src, tgt):
    g = torch.Generator().manual_seed(0)
    src_tokens = torch.randint(4, len(src), (3, 5), generator=g)
    prev = torch.randint(4, len(tgt), (3, 4), generator=g)
    return src_tokens, torch.full((3,), 5), prev


@pytest.mark.parametrize("arch", list(TINY_DIMS))
def test_fresh_model_is_plain_softmax_and_gradients_reach_plif(arch):
    torch.manual_seed(0)
    model, src, tgt = build(arch)
    assert type(model.decoder).__name__.startswith("Plif") and model.decoder.plif is not None
    src_tokens, lengths, prev = batch(src, tgt)
    features, _ = model.decoder.extract_features(prev, encoder_out=model.encoder(src_tokens, src_lengths=lengths))
    if arch.startswith("plif_lstm"):
        plain = torch.nn.functional.linear(features, model.decoder.embed_tokens.weight)
    else:
        plain = model.decoder.output_projection(features)
    net_output = model(src_tokens, lengths, prev)
    lprobs = model.get_normalized_probs(net_output, log_probs=True)
    assert torch.allclose(lprobs, torch.log_softmax(plain, -1), atol=1e-5)

    target = torch.randint(4, len(tgt), (3, 4))
    loss = torch.nn.functional.nll_loss(lprobs.view(-1, lprobs.size(-1)), target.view(-1))
    loss.backward()
    grad = model.decoder.plif.scaled_raw_slopes.grad
    assert grad is not None and grad.abs().sum() > 0


def test_bad_plif_options_name_their_flag():
    with pytest.raises(InputError, match="--plif-range must be positive"):
        build("plif_transformer_small", plif_range=0.0)
    with pytest.raises(InputError, match="--adaptive-softmax-cutoff cannot be combined"):
        build("plif_transformer_small", adaptive_softmax_cutoff="10,20")
