"""The data pipeline's resumable steps and checked fairseq dictionaries. Raw text,
Moses and SentencePiece segmentation are in ``fairseq_vmf_text`` (no fairseq there)."""

from . import dictionary, steps  # noqa: F401
