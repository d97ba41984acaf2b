"""Decoder inputs for words added to the target vocabulary after training."""

import torch
from torch import nn


class ExtendedVocabularyInputs(nn.Module):
    """Wraps a trained input embedding of ``known`` rows: ids from ``known`` on (words
    that only the larger decoding table has) are embedded as ``<unk>``, which is what
    the model saw for unknown words in training."""

    def __init__(self, embedding: nn.Module, known: int, unk_idx: int):
        super().__init__()
        self.embedding = embedding
        self.known = known
        self.unk_idx = unk_idx
        self.embedding_dim = embedding.embedding_dim
        self.padding_idx = embedding.padding_idx

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.embedding(tokens.masked_fill(tokens >= self.known, self.unk_idx))
