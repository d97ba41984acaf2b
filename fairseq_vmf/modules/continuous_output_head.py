"""The output layer of a continuous-output decoder.

It replaces fairseq's vocabulary projection (hidden -> V logits) with a projection to
the embedding space (hidden -> m) and keeps the frozen target-embedding table (V, m)
as a buffer, so the table is saved in every checkpoint and a checkpoint decodes
without the original embedding file. No trainable weight here depends on V.
"""

from typing import Sequence, Tuple

import torch
from torch import nn

from ..embeddings.target_table import is_filler
from ..maths.losses import autocast_off


def never_predicted_indices(dictionary) -> Tuple[int, ...]:
    """Symbols a decoder must never output: padding, <s> and fairseq's filler words
    (``madeupwordNNNN``, added to round the dictionary size; ``is_filler`` of the table)."""
    indices = {dictionary.pad(), dictionary.bos()}
    indices.update(i for i, symbol in enumerate(dictionary.symbols) if is_filler(symbol))
    return tuple(sorted(indices))


def table_tolerance(dtype: torch.dtype) -> float:
    """How far from 1 a stored unit row's norm may be in ``dtype``."""
    return 2e-2 if dtype in (torch.float16, torch.bfloat16) else 1e-3


def same_table_tolerance(dtype: torch.dtype) -> float:
    """How far a stored table's entries may be from the float32 file they were copied from
    (``--fp16``/``--bf16`` models keep a rounded copy)."""
    return 2e-3 if dtype in (torch.float16, torch.bfloat16) else 1e-4


def table_key(table: torch.Tensor) -> tuple:
    """Identifies one table tensor on one device, for per-table caches (checks, searches)."""
    return (table.data_ptr(), tuple(table.shape), str(table.device))


class ContinuousOutputHead(nn.Module):
    """Linear(input_dim -> m) and the (V, m) target table it is scored against.

    Args:
        input_dim: size of the decoder features.
        table: (V, m) unit rows, row i = embedding of target symbol i (copied).
        never_predicted: symbol indices that are never a prediction (padding, <s>).
        layer_norm: LayerNorm (with gain and bias) on the predicted vector.
    """

    def __init__(self, input_dim: int, table: torch.Tensor, never_predicted: Sequence[int] = (),
                 layer_norm: bool = False):
        super().__init__()
        self.projection = nn.Linear(input_dim, table.size(1))
        nn.init.xavier_uniform_(self.projection.weight)
        nn.init.zeros_(self.projection.bias)
        # the authors' Transformer recipe normalises the predicted vector (its gain then
        # sets the concentration kappa); None keeps checkpoints made without it loadable
        self.layer_norm = nn.LayerNorm(table.size(1)) if layer_norm else None
        # persistent: the table travels inside checkpoints
        self.register_buffer("target_embeddings", table.detach().clone().float())
        self.never_predicted = tuple(int(i) for i in never_predicted)

    @property
    def output_dim(self) -> int:
        return int(self.target_embeddings.size(1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        vectors = self.projection(features)
        return self.layer_norm(vectors) if self.layer_norm is not None else vectors

    def scores(self, vectors: torch.Tensor) -> torch.Tensor:
        """e_hat . e_w for every word w, float32, never-predicted symbols at -inf."""
        table = self.target_embeddings
        with autocast_off(vectors.device):
            logits = vectors.float() @ table.float().t()
        if self.never_predicted:
            logits[..., list(self.never_predicted)] = float("-inf")
        return logits

    def normalized_probs(self, vectors: torch.Tensor, log_probs: bool) -> torch.Tensor:
        """The vMF density of e_hat renormalised over the table rows.

        p(w | e_hat) = C_m(k) exp(e_hat . e_w) / sum_w' C_m(k) exp(e_hat . e_w');
        C_m(k) cancels, leaving softmax(e_hat . E^T): proper probabilities over the
        target vocabulary for fairseq's tools (scoring, stock beam search).
        """
        logits = self.scores(vectors)
        return torch.log_softmax(logits, dim=-1) if log_probs else torch.softmax(logits, dim=-1)
