"""Reading, checking and segmenting raw parallel text (no fairseq components here)."""

from . import corpus, moses, steps, subwords  # noqa: F401
