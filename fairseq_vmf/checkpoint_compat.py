"""Let fairseq 0.12 checkpoints load under torch's ``weights_only=True`` default.

torch >= 2.6 unpickles checkpoints with an allow-list of types. fairseq 0.12 stores
the model configuration of args-style models (LSTM, legacy transformer, ours) as an
``argparse.Namespace`` and, with ``--eval-bleu``, numpy arrays in the saved metric
meters. Allow-listing exactly those types keeps the safe loader (no arbitrary code
runs on load) while making ``fairseq-generate`` and ``fairseq-train`` resumption work
without ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``.
"""

import argparse

import numpy as np
import torch


def fairseq_checkpoint_globals() -> list:
    """The classes and functions a fairseq 0.12 checkpoint may pickle.

    ``argparse.Namespace``: the model config of args-style models. numpy arrays (the
    ``--eval-bleu`` n-gram counts in the saved metric meters) and numpy float scalars
    (metric values computed with numpy): data-only types, safe to rebuild.
    """
    # numpy 2 moved numpy.core to numpy._core; checkpoints name the module they were saved with.
    multiarray = (getattr(np, "_core", None) or np.core).multiarray
    safe = [argparse.Namespace, multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    if hasattr(np, "dtypes"):  # numpy >= 1.25 pickles dtypes by their class
        safe += [getattr(np.dtypes, f"{kind}DType") for kind in ("Int64", "Int32", "Float64", "Float32", "Bool")]
    return safe


def allow_fairseq_checkpoints() -> None:
    """Register :func:`fairseq_checkpoint_globals` with torch's safe unpickler.

    Idempotent and cheap: fairseq imports the user dir in every worker process.
    """
    torch.serialization.add_safe_globals(fairseq_checkpoint_globals())
