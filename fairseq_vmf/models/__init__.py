"""Continuous-output translation models (registers continuous_transformer, continuous_lstm;
the softmax comparison models plif_transformer, plif_lstm, and the softmax_transformer_*
body sizes of fairseq's own Transformer)."""

from . import continuous_lstm, continuous_transformer, plif_lstm, plif_transformer, transformer_bodies  # noqa: F401
from .continuous_output_model import ContinuousOutputModelMixin  # noqa: F401
