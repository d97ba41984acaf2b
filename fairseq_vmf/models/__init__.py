"""Continuous-output translation models (registers continuous_transformer, continuous_lstm)."""

from . import continuous_lstm, continuous_transformer  # noqa: F401
from .continuous_output_model import ContinuousOutputModelMixin  # noqa: F401
