"""fairseq criteria for continuous outputs: vmf and the paper's baselines cosine, l2, max_margin;
softmax-side: tied_augmented_ce."""

from . import continuous_output, cosine, l2, max_margin, tied_augmented_ce, vmf  # noqa: F401
