"""log C_m(kappa), the log normaliser of the von Mises-Fisher distribution on S^{m-1}.

    C_m(kappa) = kappa^(m/2-1) / ((2 pi)^(m/2) I_{m/2-1}(kappa))

Everything here is plain torch: no scipy, no host round trip, any device.

How the value is computed (nu = m/2 - 1 is the Bessel order):

* For nu >= ``_DEBYE_MIN_ORDER`` the uniform asymptotic (Debye) expansion of
  I_nu(nu z) (DLMF 10.41.3) is used for every kappa. It is uniform in z on
  [0, inf), so one formula covers kappa -> 0 and kappa >> m without a switch;
  with ``_DEBYE_TERMS`` terms its relative error is far below 1e-10 at these
  orders. The terms are rearranged so that nothing cancels catastrophically
  at either end (see ``_debye_log_cmk_and_q``).
* For smaller orders, the expansion is taken at order N = nu + n >= the
  threshold and brought down to nu with the backward recurrence of Bessel
  ratios, I_j / I_{j+1} = 2(j+1)/kappa + I_{j+2} / I_{j+1}, which is the stable
  direction for I. The recurrence is written for Q_j = I_{j+1}/(kappa I_j)
  so that kappa = 0 is an ordinary point.

The derivative is analytic: d/dkappa log C_m = -I_{m/2}(kappa)/I_{m/2-1}(kappa),
the Bessel ratio, which the forward pass produces anyway.
"""

from fractions import Fraction
from functools import lru_cache
import math

import torch

# Orders at or above this use the Debye expansion directly.
_DEBYE_MIN_ORDER = 12.0
# Number of correction terms u_1..u_K of the expansion.
_DEBYE_TERMS = 8
_LOG_2PI = math.log(2.0 * math.pi)


@lru_cache(maxsize=None)
def debye_polynomials(count: int):
    """Exact coefficients of u_0..u_count (DLMF 10.41.10), lowest power first.

    u_{k+1}(t) = t^2 (1 - t^2) u_k'(t) / 2 + (1/8) int_0^t (1 - 5 s^2) u_k(s) ds
    """
    polys = [[Fraction(1)]]
    for _ in range(count):
        u = polys[-1]
        derivative = [j * u[j] for j in range(1, len(u))]  # coefficient of t^(j-1)
        nxt = [Fraction(0)] * (len(u) + 3)
        for j, c in enumerate(derivative):  # t^2 (1 - t^2) / 2 * c t^j
            nxt[j + 2] += c / 2
            nxt[j + 4] -= c / 2
        for j, c in enumerate(u):  # (1/8) int_0^t (1 - 5 s^2) c s^j ds
            nxt[j + 1] += c / (8 * (j + 1))
            nxt[j + 3] -= 5 * c / (8 * (j + 3))
        while nxt and nxt[-1] == 0:
            nxt.pop()
        polys.append(nxt)
    return tuple(tuple(p) for p in polys)


def _scaled(polys, nu: float):
    """Coefficients in t of sum_{k>=1} polys[k](t) / nu^k, lowest power first."""
    degree = max(len(p) for p in polys)
    coefficients = [0.0] * degree
    for k in range(1, len(polys)):
        for j, c in enumerate(polys[k]):
            coefficients[j] += float(c) / nu**k
    return tuple(coefficients)


@lru_cache(maxsize=None)
def _debye_coefficients(nu: float):
    """Coefficients of U(t) - 1 and of W(t) at order nu.

    U(t) = sum_k u_k(t)/nu^k is the series of I_nu(nu z) (DLMF 10.41.3);
    W(t) = sum_{k>=1} (u_{k-1}(t)/2 + t u_{k-1}'(t)) / nu^k comes from the
    series of I_nu' (DLMF 10.41.4, 10.41.11), and gives the Bessel ratio
    without cancellation (see ``_debye_log_cmk_and_q``).
    """
    u = debye_polynomials(_DEBYE_TERMS)
    w = [()]
    for k in range(1, _DEBYE_TERMS + 1):
        prev = u[k - 1]
        poly = [Fraction(0)] * (len(prev) + 1)
        for j, c in enumerate(prev):
            poly[j] += c / 2  # u_{k-1}/2
            poly[j] += j * c  # t u_{k-1}'  (j c t^(j-1) * t)
        w.append(tuple(poly))
    return _scaled(u, nu), _scaled(w, nu)


def _horner(coefficients, t):
    result = torch.full_like(t, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        result = result * t + c
    return result


def _debye_log_cmk_and_q(kappa: torch.Tensor, nu: float):
    """(log C, Q) at Bessel order nu (m = 2 nu + 2) from the Debye expansion.

    Q = I_{nu+1}(kappa) / (kappa I_nu(kappa)) is the Bessel ratio over kappa.
    With z = kappa/nu, s = sqrt(1 + z^2), t = 1/s:

    * log I_nu(kappa) = nu*eta - log(2 pi nu)/2 - log(s)/2 + log U(t), with
      eta = s - asinh(1/z); so nu*log(kappa) - nu*eta = nu*(log nu + log1p(s) - s),
      finite and cancellation-free from kappa = 0 to kappa >> nu.
    * I_nu'/I_nu = s V/(z U) and I_{nu+1}/I_nu = I_nu'/I_nu - nu/kappa; with
      s - 1 = z^2/(1+s) and V - U = -z^2 t^3 W this is
      Q = (1/(1+s) - t^2 W/U) / nu, again without cancellation.
    """
    u_coefficients, w_coefficients = _debye_coefficients(nu)
    z = kappa / nu
    s = torch.hypot(torch.ones_like(z), z)
    t = torch.reciprocal(s)
    u_minus_one = _horner(u_coefficients, t)  # no constant term
    w = _horner(w_coefficients, t)
    log_c = (
        nu * (math.log(nu) + torch.log1p(s) - s)
        - (nu + 1.0) * _LOG_2PI
        + 0.5 * math.log(2.0 * math.pi * nu)
        + 0.5 * torch.log(s)
        - torch.log1p(u_minus_one)
    )
    q = (torch.reciprocal(1.0 + s) - t * t * w / (1.0 + u_minus_one)) / nu
    return log_c, q


def _log_cmk_and_ratio(kappa: torch.Tensor, m: int):
    """(log C_m(kappa), I_{m/2}(kappa) / I_{m/2-1}(kappa)), elementwise."""
    nu = m / 2.0 - 1.0
    steps = max(0, math.ceil(_DEBYE_MIN_ORDER - nu))
    top = nu + steps
    log_c_top, q = _debye_log_cmk_and_q(kappa, top)
    if steps == 0:
        return log_c_top, kappa * q
    kappa_sq = kappa * kappa
    log_q_sum = torch.zeros_like(kappa)
    # log C_nu = log C_top + sum_{j=nu}^{top-1} (log 2 pi + log Q_j); a loop over
    # at most _DEBYE_MIN_ORDER Bessel orders, each one elementwise over kappa.
    for j in range(steps - 1, -1, -1):
        order = nu + j
        q = torch.reciprocal(2.0 * (order + 1.0) + kappa_sq * q)
        log_q_sum = log_q_sum + torch.log(q)
    return log_c_top + steps * _LOG_2PI + log_q_sum, kappa * q


class _LogCmk(torch.autograd.Function):
    @staticmethod
    def forward(ctx, kappa, m):
        value, ratio = _log_cmk_and_ratio(kappa, m)
        ctx.save_for_backward(ratio)
        return value

    @staticmethod
    def backward(ctx, grad_output):
        (ratio,) = ctx.saved_tensors
        return -grad_output * ratio, None


def _compute_dtype(kappa: torch.Tensor) -> torch.dtype:
    # half precision has too little range for the intermediate terms
    return torch.float64 if kappa.dtype == torch.float64 else torch.float32


def check_dimension(m, where: str = "m") -> int:
    """The vMF dimension must be an integer >= 2 (the circle is m = 2)."""
    if isinstance(m, bool) or not isinstance(m, int) or m < 2:
        raise ValueError(f"{where}: the vMF dimension m must be an integer >= 2, got {m!r}")
    return m


def log_cmk_unchecked(kappa: torch.Tensor, m: int) -> torch.Tensor:
    """``log_cmk`` without the input checks (which cost a device sync)."""
    return _LogCmk.apply(kappa.to(_compute_dtype(kappa)), m)


def log_cmk(kappa: torch.Tensor, m: int) -> torch.Tensor:
    """log C_m(kappa) of the von Mises-Fisher density on the unit sphere in R^m.

    Args:
        kappa: tensor of concentrations, kappa >= 0 (kappa = 0 is the uniform
            density, log C_m(0) = log(Gamma(m/2) / (2 pi^(m/2)))).
        m: dimension of the ambient space, an integer >= 2.

    Returns:
        A tensor of kappa's shape, on kappa's device, in float64 when kappa is
        float64 and float32 otherwise (half-precision inputs are upcast).

    The gradient is the analytic d/dkappa log C_m(kappa) = -I_{m/2}(kappa) /
    I_{m/2-1}(kappa) (first order only). In float64 value and gradient are
    accurate to 1e-6 * max(1, |value|) or better for m in [2, 1024] and kappa
    in [1e-6, 1e5]; in float32 they stay finite over that range.
    """
    check_dimension(m)
    if not torch.is_tensor(kappa):
        raise TypeError(f"log_cmk: kappa must be a torch tensor, got {type(kappa).__name__}")
    if not kappa.is_floating_point():
        raise TypeError(f"log_cmk: kappa must be a floating-point tensor, got {kappa.dtype}")
    if kappa.numel() and not bool(torch.all(kappa >= 0)):
        raise ValueError("log_cmk: kappa must be >= 0 and not NaN (it is a norm)")
    return log_cmk_unchecked(kappa, m)


def log_cmk_approx(kappa: torch.Tensor, m: int) -> torch.Tensor:
    """The paper's stand-in for log C_m (Kumar & Tsvetkov 2019, appendix).

    With v = m/2 - 1 and s = sqrt((v+1)^2 + kappa^2) it returns
    -(s - (v-1) log(v-1+s)).

    Only its *gradient* approximates the exact one: d/dkappa of this is
    -kappa / (v-1+s), a bound-type approximation of -I_{v+1}/I_v (off by
    well under 1% for m = 300). Its *value* is not log C_m: it differs from
    it by a kappa-dependent offset, so losses trained with it are not NLLs
    and cannot be compared with exact ones. Requires m >= 3 (at m = 2 it is
    -inf at kappa = 0).
    """
    check_dimension(m)
    if m < 3:
        raise ValueError(f"log_cmk_approx: the paper's approximation needs m >= 3, got m={m}")
    kappa = kappa.to(_compute_dtype(kappa))
    v = m / 2.0 - 1.0
    s = torch.sqrt((v + 1.0) ** 2 + kappa * kappa)
    return -(s - (v - 1.0) * torch.log(v - 1.0 + s))
