"""Decoder input embeddings tied to the frozen target table (the paper's best setting).

The embedding of symbol i is the table row e_i, mapped to the decoder's embedding size
by a learned projection when the sizes differ (Kumar & Tsvetkov 2019, section 5:
"tied embeddings"). The table itself is never trained and is not stored twice: it is
read from the output head that owns it.
"""

import torch
from torch import nn


class FrozenTableEmbedding(nn.Module):
    """Drop-in for ``nn.Embedding`` in fairseq decoders (``embedding_dim``, ``padding_idx``).

    Args:
        head: the ``ContinuousOutputHead`` whose ``target_embeddings`` buffer is used.
        embedding_dim: the decoder's input embedding size.
        padding_idx: the padding symbol (its embedding is zero, as in fairseq).
    """

    def __init__(self, head: nn.Module, embedding_dim: int, padding_idx: int):
        super().__init__()
        # A plain attribute, not a submodule: the head is registered in the decoder,
        # and registering it here too would duplicate its parameters in state dicts.
        object.__setattr__(self, "_head", head)
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        table_dim = head.output_dim
        self.projection = nn.Linear(table_dim, embedding_dim, bias=False) if table_dim != embedding_dim else None
        if self.projection is not None:
            nn.init.normal_(self.projection.weight, mean=0.0, std=table_dim ** -0.5)

    @property
    def num_embeddings(self) -> int:
        return int(self._head.target_embeddings.size(0))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        table = self._head.target_embeddings
        vectors = nn.functional.embedding(tokens, table)
        if self.projection is not None:
            vectors = self.projection(vectors.to(self.projection.weight.dtype))
        return vectors.masked_fill(tokens.eq(self.padding_idx).unsqueeze(-1), 0.0)
