"""Pretrained target-word vectors and the fixed target-embedding table built from them."""

from . import table_extension, target_table, vectors  # noqa: F401
