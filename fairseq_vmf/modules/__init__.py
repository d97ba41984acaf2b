"""Layers of continuous-output models (no fairseq registration here)."""

from .continuous_output_head import ContinuousOutputHead  # noqa: F401
from .frozen_table_embedding import FrozenTableEmbedding  # noqa: F401
from .extended_vocabulary_inputs import ExtendedVocabularyInputs  # noqa: F401
from .monotonic_logits import MonotonicLogits  # noqa: F401
