"""The augmented loss of Inan, Khosravi & Socher (ICLR 2017), section 3.

For a gold word y* with input embedding u = L y* (L: the d x V input embedding matrix),
the soft target is  y~ = softmax(L^T u / tau)  (eq. 3.2), and the augmented term is
J_aug = KL(y~ || y^)  with  y^ = softmax(z / tau)  for the model's logits z (eq. 3.3):
both distributions at the same temperature tau. The total loss is J_CE + alpha * J_aug.
"""

import torch


def augmented_kl(logits: torch.Tensor, targets: torch.Tensor, embeddings: torch.Tensor,
                 temperature: float, padding_idx: int, detach_targets: bool = True) -> torch.Tensor:
    """KL(y~ || softmax(logits / tau)) per position; 0 where the target is padding.

    Args:
        logits: (N, V) model logits (before any softmax).
        targets: (N,) gold ids.
        embeddings: (V, d) input embedding matrix L (rows are words, no embedding scale).
        temperature: tau > 0.
        padding_idx: the padding id: padding targets get 0, and padding is never a soft target.
        detach_targets: treat y~ as a constant (the paper differentiates only the logits);
            False lets the gradient reach L through y~ as well.

    The soft targets cost one (U x V) product for the U distinct gold words of the batch,
    not a second (N x V) pass over the vocabulary.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    logits = logits.float()
    valid = targets.ne(padding_idx)
    words, which = torch.unique(targets[valid], return_inverse=True)
    table = embeddings.float()
    if detach_targets:
        table = table.detach()
    is_padding = torch.zeros(table.size(0), dtype=torch.bool, device=table.device)
    is_padding[padding_idx] = True
    similarities = ((table[words] @ table.t()) / temperature).masked_fill(is_padding, float("-inf"))  # (U, V)
    soft_log_targets = torch.log_softmax(similarities, dim=-1)
    soft_targets = soft_log_targets.exp()
    # sum_v y~ log y~ per distinct word; the padding column (0 * -inf) counts 0, gradient too
    neg_entropy = (soft_targets * soft_log_targets.masked_fill(is_padding, 0.0)).sum(-1)  # (U,)
    model_log_probs = torch.log_softmax(logits[valid] / temperature, dim=-1)  # (n, V)
    cross = (soft_targets[which] * model_log_probs).sum(-1)  # sum_v y~ log y^
    kl = logits.new_zeros(targets.shape)
    kl[valid] = neg_entropy[which] - cross
    return kl
