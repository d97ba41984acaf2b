"""Pretrained target-word vectors and the fixed target-embedding table built from them."""

from . import target_table, vectors  # noqa: F401
