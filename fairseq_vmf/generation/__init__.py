"""Decoding for continuous-output models: kNN candidates inside fairseq's beam search."""

from .candidate_ensemble import CandidateEnsemble  # noqa: F401
from .continuous_generator import ContinuousSequenceGenerator  # noqa: F401
