"""LMS-PLIF: one learnable increasing function applied to every logit before the softmax."""

import torch
from torch import nn

from ..maths.piecewise_linear import OUTSIDE, identity_raw_slope, piecewise_linear_increasing


class MonotonicLogits(nn.Module):
    """f(logits) with f piecewise-linear and increasing, shared by all words and contexts
    (Ganea et al. 2019; see ``maths.piecewise_linear`` for the parametrisation and its source).

    Args:
        knots: number of bins K over [-limit, limit] (paper: 1e5).
        limit: T, the half-width of the range where f is learnt (paper: 20).
        outside: beyond [-T, T], "linear" (first/last slope) or "constant".
        init_std: slopes start at softplus(log(e-1) + init_std * N(0, 1)); 0 makes f the
            identity, so a fresh model's distribution is plain softmax's (the authors'
            code uses 1, random slopes).
        lr_scale: w is stored as w / lr_scale and used as lr_scale * stored, so that under
            Adam its steps are about lr_scale times the model's (the paper gives PLIF
            its own learning rate).
    """

    def __init__(self, knots: int = 100_000, limit: float = 20.0, outside: str = "linear",
                 init_std: float = 0.0, lr_scale: float = 1.0):
        super().__init__()
        if knots < 1:
            raise ValueError(f"knots must be at least 1, got {knots}")
        if not limit > 0:
            raise ValueError(f"limit must be positive, got {limit}")
        if outside not in OUTSIDE:
            raise ValueError(f"outside must be one of {OUTSIDE}, got {outside!r}")
        if not lr_scale > 0:
            raise ValueError(f"lr_scale must be positive, got {lr_scale}")
        self.limit, self.outside, self.lr_scale = float(limit), outside, float(lr_scale)
        raw = torch.full((knots,), identity_raw_slope())
        if init_std > 0:
            raw += init_std * torch.randn(knots)
        self.scaled_raw_slopes = nn.Parameter(raw / self.lr_scale)

    @property
    def raw_slopes(self) -> torch.Tensor:
        return self.scaled_raw_slopes * self.lr_scale

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        # float32 out whatever the logits' dtype: the bins are finer than fp16 spacing
        return piecewise_linear_increasing(logits, self.raw_slopes, self.limit, self.outside)

    def extra_repr(self) -> str:
        return (f"knots={self.scaled_raw_slopes.numel()}, limit={self.limit}, outside={self.outside}, "
                f"lr_scale={self.lr_scale}")
