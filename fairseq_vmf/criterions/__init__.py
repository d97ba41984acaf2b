"""fairseq criteria for continuous outputs: vmf and the paper's baselines cosine, l2, max_margin."""

from . import continuous_output, cosine, l2, max_margin, vmf  # noqa: F401
