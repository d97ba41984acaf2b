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
    """The classes and functions a fairseq 0.12 checkpoint may pickle."""
    safe = [argparse.Namespace]
    # numpy arrays and scalars (metric meters, ``--eval-bleu`` counts). Looked up by
    # attribute so the list follows numpy's internal module names across versions.
    multiarray = getattr(np, "_core", None) or np.core
    safe += [
        multiarray.multiarray._reconstruct,
        multiarray.multiarray.scalar,
        np.ndarray,
        np.dtype,
    ]
    # numpy >= 1.25 pickles dtypes as instances of their per-type classes.
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        safe += [
            getattr(dtypes, name)
            for name in ("Float64DType", "Float32DType", "Int64DType", "Int32DType", "BoolDType")
            if hasattr(dtypes, name)
        ]
    return safe


def allow_fairseq_checkpoints() -> None:
    """Register :func:`fairseq_checkpoint_globals` with torch's safe unpickler.

    Idempotent and cheap: fairseq imports the user dir in every worker process.
    """
    torch.serialization.add_safe_globals(fairseq_checkpoint_globals())
