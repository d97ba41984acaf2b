"""Inan et al.'s augmented loss: hand-computed values, its gradient, and the criterion."""

import argparse
import math
from types import SimpleNamespace

import pytest
import torch

import fairseq_vmf  # noqa: F401
from fairseq.criterions.label_smoothed_cross_entropy import LabelSmoothedCrossEntropyCriterion
from fairseq.data import Dictionary
from fairseq.models import ARCH_MODEL_REGISTRY
from fairseq_vmf.criterions.tied_augmented_ce import TiedAugmentedCrossEntropyCriterion
from fairseq_vmf.errors import InputError
from fairseq_vmf.maths.augmented_loss import augmented_kl

PAD = 1


def test_hand_computed_kl_on_four_words():
    # rows: word 0, padding (zero row), word 2, word 3
    table = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    logits = torch.tensor([[0.0, 0.0, 1.0, 2.0]])
    tau = 2.0
    kl = augmented_kl(logits, torch.tensor([2]), table, tau, PAD)
    # soft targets for gold word 2: similarities u.L = (0, -, 1, 1) / 2 over words 0, 2, 3
    z = 1 + 2 * math.exp(0.5)
    soft = [1 / z, 0.0, math.exp(0.5) / z, math.exp(0.5) / z]
    # model side softmax(logits / 2) over all four ids
    zm = 2 + math.exp(0.5) + math.exp(1.0)
    model = [1 / zm, 1 / zm, math.exp(0.5) / zm, math.exp(1.0) / zm]
    expected = sum(p * (math.log(p) - math.log(q)) for p, q in zip(soft, model) if p > 0)
    assert kl.item() == pytest.approx(expected, rel=1e-6)


def test_padding_targets_cost_nothing_and_duplicates_share_soft_targets():
    torch.manual_seed(0)
    table = torch.randn(12, 5)
    table[PAD] = 0
    logits = torch.randn(6, 12)
    targets = torch.tensor([4, PAD, 7, 4, PAD, 9])
    kl = augmented_kl(logits, targets, table, 3.0, PAD)
    assert kl[1] == 0 and kl[4] == 0
    one_by_one = torch.cat([augmented_kl(logits[i:i + 1], targets[i:i + 1], table, 3.0, PAD) for i in range(6)])
    assert torch.allclose(kl, one_by_one, atol=1e-6)
    assert (kl[targets != PAD] > 0).all()


def test_gradient_wrt_logits_is_paper_eq_3_4():
    # dJ_aug/dz = (y^ - y~) / tau
    torch.manual_seed(1)
    table = torch.randn(10, 4)
    table[PAD] = 0
    logits = torch.randn(3, 10, requires_grad=True)
    targets = torch.tensor([3, 5, 8])
    tau = 1.5
    augmented_kl(logits, targets, table, tau, PAD).sum().backward()
    sims = table[targets] @ table.t() / tau
    sims[:, PAD] = -math.inf
    expected = (torch.softmax(logits.detach() / tau, -1) - torch.softmax(sims, -1)) / tau
    assert torch.allclose(logits.grad, expected, atol=1e-6)


def test_target_gradient_option_reaches_the_embeddings():
    table = torch.randn(8, 3, requires_grad=True)
    logits = torch.randn(2, 8)
    targets = torch.tensor([2, 5])
    assert not augmented_kl(logits, targets, table, 2.0, PAD).requires_grad
    augmented_kl(logits, targets, table, 2.0, PAD, detach_targets=False).sum().backward()
    assert table.grad is not None and table.grad.abs().sum() > 0


def tiny_model_and_sample():
    torch.manual_seed(0)
    src, tgt = Dictionary(), Dictionary()
    for i in range(25):
        src.add_symbol(f"s{i}")
        tgt.add_symbol(f"t{i}")
    task = SimpleNamespace(source_dictionary=src, target_dictionary=tgt)
    args = argparse.Namespace(arch="transformer", share_decoder_input_output_embed=True, encoder_embed_dim=16,
                              decoder_embed_dim=16, encoder_ffn_embed_dim=32, decoder_ffn_embed_dim=32,
                              encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                              decoder_attention_heads=2, dropout=0.0)
    model = ARCH_MODEL_REGISTRY["transformer"].build_model(args, task)
    g = torch.Generator().manual_seed(0)
    target = torch.randint(4, len(tgt), (3, 5), generator=g)
    target[2, 3:] = tgt.pad()
    prev = torch.cat([torch.full((3, 1), tgt.eos()), target[:, :-1]], 1)
    sample = {"net_input": {"src_tokens": torch.randint(4, len(src), (3, 6), generator=g),
                            "src_lengths": torch.full((3,), 6), "prev_output_tokens": prev},
              "target": target, "ntokens": int(target.ne(tgt.pad()).sum())}
    return model, SimpleNamespace(target_dictionary=tgt), sample


def test_weight_zero_is_label_smoothed_cross_entropy_and_weight_adds_the_kl():
    model, task, sample = tiny_model_and_sample()
    stock = LabelSmoothedCrossEntropyCriterion(task, False, 0.1)
    zero = TiedAugmentedCrossEntropyCriterion(task, False, 0.1, aug_gamma=0.0)
    loss_stock, _, _ = stock(model, sample)
    loss_zero, _, log_zero = zero(model, sample)
    assert loss_zero.item() == pytest.approx(loss_stock.item(), rel=1e-6)

    full = TiedAugmentedCrossEntropyCriterion(task, False, 0.1, aug_temperature=10.0, aug_gamma=0.5)
    loss_full, _, log_full = full(model, sample)
    logits = model(**sample["net_input"])[0]
    kl = augmented_kl(logits.view(-1, logits.size(-1)), sample["target"].view(-1),
                      model.decoder.embed_tokens.weight, 10.0, task.target_dictionary.pad())
    assert loss_full.item() == pytest.approx(loss_stock.item() + 5.0 * kl.sum().item(), rel=1e-5)
    assert log_full["aug_loss"].item() == pytest.approx(kl.sum().item(), rel=1e-5)


def test_bad_options_name_their_flag():
    _, task, _ = tiny_model_and_sample()
    with pytest.raises(InputError, match="--aug-temperature must be positive"):
        TiedAugmentedCrossEntropyCriterion(task, False, 0.1, aug_temperature=0.0)


def test_unreduced_loss_is_one_value_per_position():
    # fairseq tools that ask for reduce=False get the per-position losses, (N,), whose sum is
    # the reduced loss (a (N, 1) + (N,) sum would broadcast to (N, N))
    model, task, sample = tiny_model_and_sample()
    model.eval()
    criterion = TiedAugmentedCrossEntropyCriterion(task, False, 0.1, aug_temperature=10.0, aug_gamma=0.5)
    per_position, _, _ = criterion(model, sample, reduce=False)
    reduced, _, _ = criterion(model, sample)
    assert per_position.shape == (sample["target"].numel(),)
    assert per_position.sum().item() == pytest.approx(reduced.item(), rel=1e-5)
    padded = sample["target"].view(-1).eq(task.target_dictionary.pad())
    assert per_position[padded].abs().max().item() == 0.0
