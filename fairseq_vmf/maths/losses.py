"""Per-token continuous-output losses (Kumar & Tsvetkov 2019, section 3 and 4).

Every function takes the decoder outputs ``pred`` (N, m) and the unit-norm target
embeddings ``target`` (N, m) of the N non-padding tokens and returns a loss per token
(N,), computed in float32 (float64 when given float64) with autocast off: under
fp16/bf16 training the norm, log C_m and the dot products would otherwise lose the
precision the loss needs.
"""

import contextlib

import torch

from .log_cmk import log_cmk_approx, log_cmk_unchecked
from .vocabulary_scan import best_rows

# Norms below this count as zero when dividing by them (cosine of a zero vector).
NORM_EPS = 1e-6


def full_precision(*tensors):
    """The tensors in float32 (or float64 if any is float64)."""
    dtype = torch.float64 if any(t.dtype == torch.float64 for t in tensors) else torch.float32
    return tuple(t.to(dtype) for t in tensors)


def autocast_off(device: torch.device):
    """A context in which autocast does not lower matmuls and reductions."""
    try:
        return torch.autocast(device_type=device.type, enabled=False)
    except RuntimeError:  # a device type without autocast support
        return contextlib.nullcontext()


def norms_and_cosines(pred: torch.Tensor, target: torch.Tensor):
    """kappa = ||pred||, pred . target and cos(pred, target), one value per row."""
    kappa = torch.linalg.vector_norm(pred, dim=-1)
    dot = (pred * target).sum(dim=-1)
    cosine = dot / kappa.clamp_min(NORM_EPS)
    return kappa, dot, cosine


def vmf_nll(
    pred: torch.Tensor,
    target: torch.Tensor,
    lambda1: float = 0.0,
    lambda2: float = 1.0,
    approximate: bool = False,
) -> torch.Tensor:
    """NLLvMF with the paper's two regularisers.

        loss = -log C_m(||pred||) - lambda2 * pred . target + lambda1 * ||pred||

    lambda1 = 0, lambda2 = 1 is the plain negative log-likelihood (eq. 3 of the
    paper); lambda1 > 0 is "reg1" (penalises the concentration), lambda2 < 1 is
    "reg2" (down-weights the likelihood term). ``approximate`` uses the paper's
    approximate normaliser (see ``log_cmk_approx``: exact gradient shape, not value).
    """
    with autocast_off(pred.device):
        pred, target = full_precision(pred, target)
        m = pred.size(-1)
        kappa, dot, _ = norms_and_cosines(pred, target)
        log_c = log_cmk_approx(kappa, m) if approximate else log_cmk_unchecked(kappa, m)
        return -log_c - lambda2 * dot + lambda1 * kappa


def vmf_nll_released(pred: torch.Tensor, target: torch.Tensor, margin: float = 0.2) -> torch.Tensor:
    """The loss the paper's released code optimises instead of its equations:

        loss = -log C_m(||pred||) + log(1 + ||pred||) * (margin - cos(pred, target))

    (margin 0.2 hard-coded there). Its optimal kappa solves A(kappa)(1 + kappa) = cos - margin,
    so it stays small (about 15 at cos = 1) and falls to 0 while cos <= margin.
    """
    with autocast_off(pred.device):
        pred, target = full_precision(pred, target)
        kappa, _, cosine = norms_and_cosines(pred, target)
        return -log_cmk_unchecked(kappa, pred.size(-1)) + torch.log1p(kappa) * (margin - cosine)


def table_nll(pred: torch.Tensor, target_index: torch.Tensor, table: torch.Tensor,
              candidates: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """-log of the vMF density renormalised over a set of table rows, at the target row:

        loss = log sum_{j in candidates} exp(pred . e_j) - pred . e_target

    C_m(||pred||) cancels in the renormalisation, so this is a cross-entropy whose logits
    are the inner products with fixed unit rows: the distribution the kNN decoder scores
    with (``--knn-score vmf``). ``candidates`` must be sorted, distinct and contain every
    target of ``target_index`` (N,); with the batch's own targets as candidates the cost
    grows with the batch, not with the vocabulary.

    ``label_smoothing`` eps scores against (1 - eps) one-hot + eps uniform over the
    candidates: (1 - eps) * loss + eps * mean_j(-log p_j), as label-smoothed cross-entropy.
    """
    with autocast_off(pred.device):
        pred, table = full_precision(pred, table)
        logits = pred @ table[candidates].t()  # (N, C)
        log_normaliser = torch.logsumexp(logits, dim=-1)
        column = torch.searchsorted(candidates, target_index).clamp_max(candidates.numel() - 1)
        nll = log_normaliser - logits.gather(1, column.unsqueeze(1)).squeeze(1)
        if label_smoothing == 0:
            return nll
        uniform_nll = log_normaliser - logits.mean(dim=-1)
        return (1.0 - label_smoothing) * nll + label_smoothing * uniform_nll


def cosine_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - cos(pred, target)."""
    with autocast_off(pred.device):
        pred, target = full_precision(pred, target)
        return 1.0 - norms_and_cosines(pred, target)[2]


def l2_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """||pred - target||^2, the raw output against the unit target (as in the paper)."""
    with autocast_off(pred.device):
        pred, target = full_precision(pred, target)
        return (pred - target).pow(2).sum(dim=-1)


MAX_MARGIN_NEGATIVES = ("hardest", "projection")


def max_margin_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    target_index: torch.Tensor,
    table: torch.Tensor,
    margin: float = 0.5,
    negative: str = "hardest",
    banned: torch.Tensor = None,
    chunk_size: int = 8192,
) -> torch.Tensor:
    """Hinge loss max(0, margin + cos(pred, e_neg) - cos(pred, e_target)) with one negative.

    The paper writes the loss as a sum over every other word; like its released code
    we take one negative per token, found by an exact chunked scan of the table
    (memory N x chunk_size, never N x V):

    * ``hardest``: the word w' != w with the largest cos(pred, e_w'), i.e. the term
      of the paper's sum with the largest hinge (an upper bound on each term);
    * ``projection``: the released code's choice, argmax_w' cos(pred, e_w') - cos(e_w, e_w'),
      a word close to the prediction but far from the target.

    ``table`` rows must be unit-norm; ``banned`` rows (padding, <s>) are never negatives.
    """


    if negative not in MAX_MARGIN_NEGATIVES:
        raise ValueError(f"negative must be one of {MAX_MARGIN_NEGATIVES}, got {negative!r}")
    with autocast_off(pred.device):
        pred, target, table = full_precision(pred, target, table)
        unit = pred / torch.linalg.vector_norm(pred, dim=-1, keepdim=True).clamp_min(NORM_EPS)
        query = unit if negative == "hardest" else unit - target
        _, negative_index = best_rows(query.detach(), table, banned, target_index, chunk_size)
        cos_target = (unit * target).sum(dim=-1)
        cos_negative = (unit * table[negative_index]).sum(dim=-1)
        return torch.relu(margin + cos_negative - cos_target)
