"""Continuous-output translation models (registers continuous_transformer, continuous_lstm;
the softmax comparison models plif_transformer, plif_lstm)."""

from . import continuous_lstm, continuous_transformer, plif_lstm, plif_transformer  # noqa: F401
from .continuous_output_model import ContinuousOutputModelMixin  # noqa: F401
