"""A learnable piecewise-linear increasing function applied pointwise (LMS-PLIF).

Ganea, Gelly, Bécigneul & Severyn (ICML 2019), "Breaking the Softmax Bottleneck via
Learnable Monotonic Pointwise Non-linearities": LMS-PLIF, one increasing f: R -> R shared
by all logits, parametrised as piecewise linear. The parametrisation below follows the
code credited to the authors in the repository of Parthiban, Mao & Inkpen (AAAI 2021),
whose supplement (section 2.2) gives the defaults K = 1e5, T = 20; the ICML text itself was
not available to us, so no section of it is cited. Unlike that code (f(-T) = 0) we anchor
f(-T) = -T, a constant shift the softmax ignores, so that unit slopes give exactly the
identity. The interval [-T, T] is cut into K equal bins of width D = 2T/K with left
knots k_i = -T + i*D; on bin i,

    f(x) = s_i (x - k_i) + b_i,   b_i = -T + D * sum_{j<i} s_j,   s_i = softplus(w_i) > 0,

so f is continuous and strictly increasing, with f(-T) = -T. With every s_i = 1 it is
the identity. Outside [-T, T] it continues with the first/last slope ("linear", the
authors' code clamps the bin index) or stays at f(-T)/f(T) ("constant").

The forward pass saves only x and w: the bin index is recomputed in the backward pass
instead of being stored per logit (an int64 per logit would be twice the logits' size),
and the slope gradient is gathered per bin with index_add_ and a reverse cumulative sum:

    dL/ds_j = H_j + D * sum_{i>j} G_i,   G_i = sum_{x in bin i} g,   H_i = sum_{x in bin i} g (x - k_i).

Everything runs in float32: D = 4e-4 at the paper's K = 1e5, T = 20 is finer than the
float16 spacing of logits.
"""

import math

import torch
import torch.nn.functional as F

OUTSIDE = ("linear", "constant")
# Elements per chunk: bounds the int64 bin indices and temporaries to a few tens of MB.
CHUNK = 1 << 22


def identity_raw_slope() -> float:
    """The w with softplus(w) = 1 (slope 1: f is the identity)."""
    return math.log(math.e - 1.0)


def _bins(x: torch.Tensor, limit: float, knots: int, outside: str):
    width = 2.0 * limit / knots
    inside = x.clamp(-limit, limit) if outside == "constant" else x
    index = torch.div(inside + limit, width, rounding_mode="floor").clamp_(0, knots - 1).long()
    offset_in_bin = inside - (index.to(x.dtype) * width - limit)
    return index, offset_in_bin


class _PiecewiseLinearIncreasing(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, raw_slopes, limit, outside):
        knots = raw_slopes.numel()
        width = 2.0 * limit / knots
        slopes = F.softplus(raw_slopes)
        starts = width * (torch.cumsum(slopes, 0) - slopes) - limit  # f at each left knot
        flat = x.reshape(-1)
        out = torch.empty_like(flat)
        for begin in range(0, flat.numel(), CHUNK):
            part = flat[begin:begin + CHUNK]
            index, offset_in_bin = _bins(part, limit, knots, outside)
            out[begin:begin + CHUNK] = torch.addcmul(starts[index], slopes[index], offset_in_bin)
        ctx.save_for_backward(x, raw_slopes)
        ctx.limit, ctx.outside = limit, outside
        return out.view_as(x)

    @staticmethod
    def backward(ctx, grad_out):
        x, raw_slopes = ctx.saved_tensors
        limit, outside = ctx.limit, ctx.outside
        knots = raw_slopes.numel()
        width = 2.0 * limit / knots
        slopes = F.softplus(raw_slopes)
        flat, grad_flat = x.reshape(-1), grad_out.reshape(-1)
        grad_x = torch.empty_like(flat) if ctx.needs_input_grad[0] else None
        per_bin = torch.zeros(knots, dtype=x.dtype, device=x.device)  # G
        per_bin_offset = torch.zeros_like(per_bin)  # H
        for begin in range(0, flat.numel(), CHUNK):
            part, grad = flat[begin:begin + CHUNK], grad_flat[begin:begin + CHUNK]
            index, offset_in_bin = _bins(part, limit, knots, outside)
            if grad_x is not None:
                local = grad * slopes[index]
                if outside == "constant":
                    local = local.masked_fill_(part.abs() > limit, 0.0)
                grad_x[begin:begin + CHUNK] = local
            per_bin.index_add_(0, index, grad)
            per_bin_offset.index_add_(0, index, grad * offset_in_bin)
        later_bins = per_bin.sum() - torch.cumsum(per_bin, 0)  # sum over i > j of G_i
        grad_slopes = per_bin_offset + width * later_bins
        grad_raw = grad_slopes * torch.sigmoid(raw_slopes)
        return (grad_x.view_as(x) if grad_x is not None else None), grad_raw, None, None


def piecewise_linear_increasing(x: torch.Tensor, raw_slopes: torch.Tensor, limit: float = 20.0,
                                outside: str = "linear") -> torch.Tensor:
    """f(x) elementwise (float32), with slopes softplus(raw_slopes) on len(raw_slopes)
    equal bins over [-limit, limit]; see the module docstring."""
    if outside not in OUTSIDE:
        raise ValueError(f"outside must be one of {OUTSIDE}, got {outside!r}")
    if not limit > 0:
        raise ValueError(f"limit must be positive, got {limit}")
    return _PiecewiseLinearIncreasing.apply(x.float(), raw_slopes.float(), float(limit), outside)


def piecewise_linear_reference(x: torch.Tensor, raw_slopes: torch.Tensor, limit: float = 20.0,
                               outside: str = "linear") -> torch.Tensor:
    """The same function written with plain autograd (stores per-logit temporaries);
    for tests of the custom backward."""
    knots = raw_slopes.numel()
    width = 2.0 * limit / knots
    slopes = F.softplus(raw_slopes)
    starts = width * (torch.cumsum(slopes, 0) - slopes) - limit
    index, offset_in_bin = _bins(x, limit, knots, outside)
    return starts[index] + slopes[index] * offset_in_bin
