"""The per-token losses on hand-computed cases, their gradients and precision handling."""

import math

import numpy as np
import pytest
import scipy.special
import torch

from fairseq_vmf.maths import best_rows, cosine_loss, l2_loss, max_margin_loss, vmf_nll


def unit(*values):
    v = torch.tensor(values, dtype=torch.float64)
    return v / v.norm()


def test_vmf_nll_hand_computed_for_m_3():
    # -log C_3(k) = log(4 pi sinh(k) / k); pred = 3 e1, target e1 => dot = 3
    pred = torch.tensor([[3.0, 0.0, 0.0]], dtype=torch.float64)
    target = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    minus_log_c = math.log(4 * math.pi * math.sinh(3.0) / 3.0)
    assert float(vmf_nll(pred, target, 0.0, 1.0)) == pytest.approx(minus_log_c - 3.0, abs=1e-10)
    assert float(vmf_nll(pred, target, 0.02, 0.1)) == pytest.approx(minus_log_c - 0.3 + 0.06, abs=1e-10)
    # orthogonal target: the dot term vanishes
    other = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    assert float(vmf_nll(pred, other, 0.0, 1.0)) == pytest.approx(minus_log_c, abs=1e-10)


def test_vmf_nll_is_minimised_along_the_target_at_the_right_concentration():
    # d/dk [-log C_m(k) - k] = I_{m/2}/I_{m/2-1} - 1 < 0: the plain NLL keeps rewarding larger
    # norms along the target, while with reg2 (lambda2 < 1) it has a finite minimum
    # where the Bessel ratio equals lambda2 - lambda1.
    target = unit(1, 2, 2).unsqueeze(0)
    norms = torch.linspace(0.05, 30, 600, dtype=torch.float64).unsqueeze(1)
    plain = vmf_nll(norms * target, target.expand(600, 3), 0.0, 1.0)
    assert bool((plain[1:] < plain[:-1]).all())
    regularised = vmf_nll(norms * target, target.expand(600, 3), 0.02, 0.1)
    best = float(norms[regularised.argmin()])
    # for m = 3 the ratio is coth(k) - 1/k; coth(k) - 1/k = 0.08 at k ~ 0.24
    assert best == pytest.approx(0.24, abs=0.06)


def test_cosine_and_l2_hand_computed():
    pred = torch.tensor([[1.0, 1.0, 0.0], [0.0, -2.0, 0.0]], dtype=torch.float64)
    target = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(cosine_loss(pred, target), torch.tensor([1 - 1 / math.sqrt(2), 2.0], dtype=torch.float64))
    torch.testing.assert_close(l2_loss(pred, target), torch.tensor([1.0, 9.0], dtype=torch.float64))


TABLE = torch.tensor(
    [[0.0, 0.0, 1.0],  # 0 "<s>"-like row, banned
     [0.0, 0.0, -1.0],  # 1 pad, banned
     [1.0, 0.0, 0.0],  # 2 target word
     [0.6, 0.8, 0.0],  # 3 close to the target
     [0.0, 1.0, 0.0],  # 4
     [-1.0, 0.0, 0.0]],  # 5
    dtype=torch.float64,
)
BANNED = torch.tensor([True, True, False, False, False, False])


def test_max_margin_hardest_negative_by_hand():
    pred = torch.tensor([[0.8, 0.6, 0.0]], dtype=torch.float64)  # unit already
    target_index = torch.tensor([2])
    # cosines: row2 0.8, row3 0.48+0.48=0.96, row4 0.6, row5 -0.8 -> hardest = row 3
    loss = max_margin_loss(pred, TABLE[target_index], target_index, TABLE, 0.5, "hardest", BANNED)
    assert float(loss) == pytest.approx(0.5 + 0.96 - 0.8)
    # margin satisfied -> zero loss and zero gradient
    pred = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    loss = max_margin_loss(pred, TABLE[target_index], target_index, TABLE, 0.3, "hardest", BANNED)
    # hardest negative is row 3 with cos 0.6: 0.3 + 0.6 - 1.0 < 0
    assert float(loss) == 0.0
    loss.sum().backward()
    assert float(pred.grad.abs().sum()) == 0.0


def test_max_margin_projection_negative_by_hand():
    pred = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    target_index = torch.tensor([2])
    # score_j = cos(pred, e_j) - cos(e_2, e_j): row3 0.8-0.6=0.2, row4 1-0=1, row5 0-(-1)=1;
    # tie between rows 4 and 5 goes to the lower index -> row 4, cos(pred, e_4) = 1
    loss = max_margin_loss(pred, TABLE[target_index], target_index, TABLE, 0.5, "projection", BANNED)
    assert float(loss) == pytest.approx(0.5 + 1.0 - 0.0)


def test_best_rows_respects_banned_rows_exclusions_and_chunking():
    torch.manual_seed(0)
    table = torch.nn.functional.normalize(torch.randn(50, 8, dtype=torch.float64), dim=1)
    queries = torch.randn(20, 8, dtype=torch.float64)
    banned = torch.zeros(50, dtype=torch.bool)
    banned[[0, 7]] = True
    exclude = torch.randint(0, 50, (20,))
    scores = queries @ table.t()
    scores[:, banned] = float("-inf")
    scores[torch.arange(20), exclude] = float("-inf")
    expected_score, expected_index = scores.max(dim=1)
    for chunk in (1, 3, 16, 50, 1000):
        score, index = best_rows(queries, table, banned, exclude, chunk)
        assert torch.equal(index, expected_index)
        torch.testing.assert_close(score, expected_score)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        best_rows(queries, table, chunk_size=0)


@pytest.mark.parametrize("name", ["vmf", "vmf_reg", "vmf_approx", "cosine", "l2", "max_margin"])
def test_gradients_match_finite_differences(name):
    torch.manual_seed(1)
    table = torch.nn.functional.normalize(torch.randn(12, 6, dtype=torch.float64), dim=1)
    target_index = torch.tensor([2, 5, 9])
    pred = (torch.randn(3, 6, dtype=torch.float64) * 3).requires_grad_()
    losses = {
        "vmf": lambda p: vmf_nll(p, table[target_index], 0.0, 1.0),
        "vmf_reg": lambda p: vmf_nll(p, table[target_index], 0.02, 0.1),
        "vmf_approx": lambda p: vmf_nll(p, table[target_index], 0.02, 0.1, approximate=True),
        "cosine": lambda p: cosine_loss(p, table[target_index]),
        "l2": lambda p: l2_loss(p, table[target_index]),
        "max_margin": lambda p: max_margin_loss(p, table[target_index], target_index, table, 2.0),
    }
    assert torch.autograd.gradcheck(losses[name], (pred,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("loss", [vmf_nll, cosine_loss, l2_loss])
def test_half_precision_inputs_give_float32_losses_even_under_autocast(loss):
    torch.manual_seed(2)
    pred = torch.randn(4, 300) * 5
    target = torch.nn.functional.normalize(torch.randn(4, 300), dim=1)
    reference = loss(pred, target)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = loss(pred.bfloat16(), target)
    assert inside.dtype == torch.float32
    # the value is that of the bf16-rounded inputs computed in full precision: expected values
    # from numpy/scipy in float64 (a norm or dot product taken in bf16 is off by ~0.4%)
    p = pred.bfloat16().double().numpy()
    t = target.double().numpy()
    kappa, dot = np.linalg.norm(p, axis=1), (p * t).sum(axis=1)
    if loss is vmf_nll:
        nu = 300 / 2 - 1
        log_c = nu * np.log(kappa) - 150 * np.log(2 * np.pi) - (np.log(scipy.special.ive(nu, kappa)) + kappa)
        expected = -log_c - dot
    elif loss is cosine_loss:
        expected = 1 - dot / kappa
    else:
        expected = ((p - t) ** 2).sum(axis=1)
    torch.testing.assert_close(inside, torch.tensor(expected, dtype=torch.float32), rtol=1e-5, atol=1e-5)
    assert torch.allclose(inside, reference, rtol=0.05, atol=0.5)


@pytest.mark.parametrize("scale", [0.0, 1e-12, 1e-4, 1.0, 1e3, 1e5])
def test_vmf_is_finite_in_float32_for_extreme_norms(scale):
    torch.manual_seed(3)
    direction = torch.nn.functional.normalize(torch.randn(5, 300), dim=1)
    pred = (direction * scale).requires_grad_()
    target = torch.nn.functional.normalize(torch.randn(5, 300), dim=1)
    loss = vmf_nll(pred, target, 0.02, 0.1).sum()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()
    # and the values they should have, from mpmath: loss = sum(-log C_m(k) - 0.1 dot + 0.02 k),
    # gradient (A_m(k) + 0.02) u - 0.1 e with A_m = I_{m/2} / I_{m/2-1} (0 and -0.1 e at k = 0)
    import mpmath

    mpmath.mp.dps = 30
    m, nu = 300, 149
    expected_loss, expected_grad = 0.0, []
    for row in range(5):
        kappa = float(pred[row].detach().double().norm())
        dot = float((pred[row].detach().double() * target[row].double()).sum())
        if kappa == 0.0:
            log_c = mpmath.loggamma(m / 2) - mpmath.log(2) - (m / 2) * mpmath.log(mpmath.pi)
            ratio = 0.0
        else:
            k = mpmath.mpf(kappa)
            log_c = nu * mpmath.log(k) - (m / 2) * mpmath.log(2 * mpmath.pi) - mpmath.log(mpmath.besseli(nu, k))
            ratio = float(mpmath.besseli(nu + 1, k) / mpmath.besseli(nu, k))
        expected_loss += float(-log_c) - 0.1 * dot + 0.02 * kappa
        unit = direction[row].double() if kappa > 0 else torch.zeros(300, dtype=torch.float64)
        expected_grad.append((ratio + 0.02) * unit - 0.1 * target[row].double())
    assert float(loss) == pytest.approx(expected_loss, rel=1e-5)
    torch.testing.assert_close(pred.grad.double(), torch.stack(expected_grad), rtol=1e-4, atol=1e-5)
