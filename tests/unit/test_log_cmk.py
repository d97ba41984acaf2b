"""log C_m(kappa) against high-precision references (mpmath), closed forms and gradcheck."""

import math

import mpmath
import pytest
import torch

from fairseq_vmf import log_cmk, log_cmk_approx
from fairseq_vmf.maths.log_cmk import debye_polynomials

KAPPAS = [1e-6, 1e-4, 1e-2, 0.1, 0.5, 1.0, 2.5, 7.0, 20.0, 60.0, 150.0, 400.0, 1e3, 3e3, 1e4, 1e5]
M_MAX = 1024


@pytest.fixture(scope="module")
def reference():
    """log I_nu(kappa) for every order nu = 0, 1/2, 1, ..., M_MAX/2 (50 digits)."""
    mpmath.mp.dps = 50
    table = {}
    for twice_nu in range(0, M_MAX + 1):
        nu = mpmath.mpf(twice_nu) / 2
        table[twice_nu] = [mpmath.log(mpmath.besseli(nu, mpmath.mpf(k))) for k in KAPPAS]
    return table


def reference_log_cmk(reference, m):
    nu = mpmath.mpf(m) / 2 - 1
    return [
        nu * mpmath.log(mpmath.mpf(k)) - (nu + 1) * mpmath.log(2 * mpmath.pi) - log_i
        for k, log_i in zip(KAPPAS, reference[m - 2])
    ]


def reference_ratio(reference, m):
    """I_{m/2}(kappa) / I_{m/2-1}(kappa)."""
    return [mpmath.exp(upper - lower) for upper, lower in zip(reference[m], reference[m - 2])]


def test_every_m_from_2_to_1024_matches_mpmath_in_value_and_gradient(reference):
    kappa = torch.tensor(KAPPAS, dtype=torch.float64, requires_grad=True)
    worst_value = worst_gradient = 0.0
    for m in range(2, M_MAX + 1):
        value = log_cmk(kappa, m)
        (gradient,) = torch.autograd.grad(value.sum(), kappa)
        expected = torch.tensor([float(v) for v in reference_log_cmk(reference, m)], dtype=torch.float64)
        expected_gradient = -torch.tensor([float(r) for r in reference_ratio(reference, m)], dtype=torch.float64)
        scale = expected.abs().clamp_min(1.0)
        worst_value = max(worst_value, float(((value.detach() - expected).abs() / scale).max()))
        worst_gradient = max(worst_gradient, float(((gradient - expected_gradient).abs() / scale).max()))
    # The contract is 1e-6; the implementation is far better, so hold it to 1e-9.
    assert worst_value < 1e-9, worst_value
    assert worst_gradient < 1e-9, worst_gradient


def test_closed_form_for_m_3():
    # I_{1/2}(k) = sqrt(2/(pi k)) sinh(k)  =>  C_3(k) = k / (4 pi sinh k)
    kappa = torch.tensor([1e-6, 0.3, 1.0, 5.0, 40.0, 300.0], dtype=torch.float64)
    log_sinh = torch.log(torch.sinh(kappa))
    expected = torch.log(kappa) - math.log(4 * math.pi) - log_sinh
    torch.testing.assert_close(log_cmk(kappa, 3), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("m", [2, 3, 10, 25, 26, 300, 1024])
def test_kappa_zero_is_the_uniform_density(m):
    # C_m(0) = 1 / area of the unit sphere S^{m-1} = Gamma(m/2) / (2 pi^(m/2))
    expected = math.lgamma(m / 2) - math.log(2.0) - (m / 2) * math.log(math.pi)
    value = log_cmk(torch.zeros(1, dtype=torch.float64), m)
    assert abs(float(value) - expected) < 1e-10 * max(1.0, abs(expected))


@pytest.mark.parametrize("m", [2, 3, 5, 24, 25, 26, 27, 300, 1024])
def test_gradcheck(m):
    kappa = torch.tensor([1e-3, 0.7, 3.0, 11.0, 26.0, 120.0, 900.0], dtype=torch.float64, requires_grad=True)
    # values reach ~2e3 at m = 1024, so finite differences carry ~1e-7 of rounding
    assert torch.autograd.gradcheck(lambda k: log_cmk(k, m), (kappa,), eps=1e-6, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("m", [2, 3, 24, 25, 26, 100, 300, 1024])
def test_float32_is_finite_over_the_whole_range(m):
    kappa = torch.tensor([0.0, 1e-30, 1e-6, 1e-2, 1.0, 50.0, 1e3, 1e5, 1e7], dtype=torch.float32, requires_grad=True)
    value = log_cmk(kappa, m)
    (gradient,) = torch.autograd.grad(value.sum(), kappa)
    assert value.dtype == torch.float32
    assert torch.isfinite(value).all() and torch.isfinite(gradient).all()
    # the gradient is minus a Bessel ratio, which lies in [0, 1)
    assert bool(((-gradient >= 0) & (-gradient <= 1.0 + 1e-6)).all())
    reference = log_cmk(kappa.detach().double(), m)
    assert torch.allclose(value.detach().double(), reference, rtol=1e-5, atol=1e-3)


def test_half_precision_input_is_computed_in_float32():
    kappa = torch.tensor([0.5, 20.0], dtype=torch.bfloat16)
    value = log_cmk(kappa, 300)
    assert value.dtype == torch.float32
    assert torch.allclose(value, log_cmk(kappa.float(), 300))


def test_no_jump_between_recurrence_and_direct_orders():
    # m <= 25 brings the expansion down with the recurrence, m >= 26 uses it directly:
    # log C_m must still be smooth in m, with second differences of the expansion's size.
    kappa = torch.tensor([0.1, 10.0, 40.0], dtype=torch.float64)
    values = torch.stack([log_cmk(kappa, m) for m in range(20, 33)])
    second = values[2:] - 2 * values[1:-1] + values[:-2]
    smooth = second[1:] - second[:-1]
    assert smooth.abs().max() < 0.05  # a formula switch would show up as a spike


def test_vectorised_over_any_shape():
    kappa = torch.rand(3, 4, 5, dtype=torch.float64) * 50
    value = log_cmk(kappa, 300)
    assert value.shape == kappa.shape
    torch.testing.assert_close(value[1, 2], log_cmk(kappa[1, 2].clone(), 300))


def test_debye_polynomials_match_the_published_first_terms():
    from fractions import Fraction as F

    u = debye_polynomials(2)
    assert u[1] == (0, F(3, 24), 0, F(-5, 24))  # (3t - 5t^3) / 24
    assert u[2] == (0, 0, F(81, 1152), 0, F(-462, 1152), 0, F(385, 1152))


def test_paper_approximation_only_approximates_the_gradient():
    kappa = torch.tensor([1.0, 10.0, 100.0, 1e3, 1e4], dtype=torch.float64, requires_grad=True)
    exact = log_cmk(kappa, 300)
    approx = log_cmk_approx(kappa, 300)
    (exact_grad,) = torch.autograd.grad(exact.sum(), kappa)
    (approx_grad,) = torch.autograd.grad(approx.sum(), kappa)
    # gradient within 2% (and exactly -kappa / (v - 1 + s))
    v = 149.0
    s = torch.sqrt((v + 1) ** 2 + kappa.detach() ** 2)
    torch.testing.assert_close(approx_grad, -kappa.detach() / (v - 1 + s))
    assert float(((approx_grad - exact_grad).abs() / exact_grad.abs()).max()) < 0.02
    # ... but the value is off by a large, kappa-dependent offset
    offset = (approx - exact).detach()
    assert offset.abs().min() > 100
    assert (offset.max() - offset.min()) > 1.0


def test_bad_arguments_are_named():
    kappa = torch.ones(2)
    with pytest.raises(ValueError, match="m must be an integer >= 2, got 1"):
        log_cmk(kappa, 1)
    with pytest.raises(ValueError, match="m must be an integer >= 2, got 2.5"):
        log_cmk(kappa, 2.5)
    with pytest.raises(ValueError, match="kappa must be >= 0 and not NaN"):
        log_cmk(torch.tensor([1.0, -0.5]), 10)
    with pytest.raises(ValueError, match="kappa must be >= 0 and not NaN"):
        log_cmk(torch.tensor([float("nan")]), 10)
    with pytest.raises(TypeError, match="floating-point tensor"):
        log_cmk(torch.tensor([1, 2]), 10)
    with pytest.raises(TypeError, match="must be a torch tensor"):
        log_cmk(3.0, 10)
    with pytest.raises(ValueError, match="needs m >= 3"):
        log_cmk_approx(kappa, 2)
