"""Pure maths: the vMF normaliser, the per-token losses, exact table scans."""

from .log_cmk import check_dimension, log_cmk, log_cmk_approx  # noqa: F401
from .losses import cosine_loss, l2_loss, max_margin_loss, table_nll, vmf_nll, vmf_nll_released  # noqa: F401
from .vocabulary_scan import best_rows  # noqa: F401
