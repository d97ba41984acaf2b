"""Bad input reported as one line: the plugin's excepthook and fairseq's errors it rewords.

:class:`InputError` is defined in the text layer (``fairseq_vmf_text.errors``) and
re-exported here for the plugin's modules. Command-line entry points catch it and print
its message on one line, without a traceback: the message itself must name the file or
flag and say what is wrong.
"""


import re
import sys

from fairseq_vmf_text.errors import InputError  # noqa: F401  (re-exported)


def _checkpoint_being_loaded(tb):
    """The file fairseq's loader was reading when the exception was raised, or None."""
    path = None
    while tb is not None:  # fairseq's loader holds the file name as ``path``
        if tb.tb_frame.f_code.co_name == "load_checkpoint_to_cpu":
            path = tb.tb_frame.f_locals.get("path")
        tb = tb.tb_next
    return path


def checkpoint_load_message(exc, tb):
    """One line for a checkpoint fairseq could not load, naming the file: a truncated or
    damaged file (a job killed while saving), or one torch's safe loader refused
    (``weights_only=True``); None for any other exception."""
    import pickle

    from .checkpoint_files import checkpoint_file_problem

    path = _checkpoint_being_loaded(tb)
    if path is not None and isinstance(exc, Exception):
        problem = checkpoint_file_problem(path)
        if problem is not None:
            return (f"{path}: cannot load this checkpoint: {problem}. A run killed while saving "
                    f"leaves checkpoint_last.pt so; scripts/train.sh with RESUME=1 resumes from the "
                    f"newest complete checkpoint, or pass fairseq-train --restore-file with one")
    if not isinstance(exc, pickle.UnpicklingError) or "Weights only load failed" not in str(exc):
        return None
    # torch names what it refused: a global outside the allow-list, or a type it cannot build
    details = [line.strip().rstrip(".") for line in str(exc).splitlines()
               if "unsupported GLOBAL" in line or "Unsupported global" in line or "Can only build" in line]
    reason = details[0] if details else "it holds more than tensors and plain data"
    return (f"{path or 'a checkpoint'}: refused by torch's safe loader ({reason}); loading it "
            f"would run code from the file: only if you trust its source, set "
            f"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1")


SIZE_PROBLEM = re.compile(r"Size of sample #(\d+) is invalid \(=(.*?)\) since max_positions=(.*?),")


def too_long_message(exc):
    """One line for fairseq's refusal of a sentence longer than the model's positions."""
    found = SIZE_PROBLEM.search(str(exc)) if type(exc) is Exception else None
    if not found:
        return None
    return (f"a sentence is longer than the model takes (sample #{found.group(1)}: size {found.group(2)}, "
            f"max positions {found.group(3)}); shorten or split it, or skip such sentences with "
            f"--skip-invalid-size-inputs-valid-test")


def bf16_as_tpu_message(exc):
    """fairseq-train (0.12) turns --bf16 into --tpu, GPU or not, and then fails looking for
    torch_xla; fairseq-hydra-train does not (checked on an H200: results/reliability/bf16_h200)."""
    if isinstance(exc, AttributeError) and "xla_device" in str(exc):
        return ("--bf16: fairseq-train turns it into --tpu (fairseq 0.12, with or without a GPU) and "
                "torch_xla is not installed; train bfloat16 with fairseq-hydra-train and common.bf16=true "
                "(scripts/bf16_check.sh), or drop --bf16 to train in float32")
    return None


def replace_unk_message(exc):
    """fairseq 0.12's --replace-unk asserts a raw-text dataset (and then cannot run: see
    scripts/replace_unk.py)."""
    if isinstance(exc, AssertionError) and "--replace-unk requires a raw text dataset" in str(exc):
        return ("--replace-unk: fairseq 0.12 runs it only on --dataset-impl raw and then fails on the "
                "first <unk> (empty alignment); use scripts/translate.sh with REPLACE_UNK=1 "
                "(--print-alignment hard + scripts/replace_unk.py) instead")
    return None


def _print_input_errors(previous_hook):
    def hook(exc_type, exc, tb):
        if issubclass(exc_type, InputError):
            # fairseq's own CLIs (fairseq-train, -generate) do not catch our errors;
            # the message names the file or flag, so the traceback adds nothing.
            sys.stderr.write(f"fairseq_vmf: error: {exc}\n")
            return
        unloadable = (checkpoint_load_message(exc, tb) or too_long_message(exc)
                      or bf16_as_tpu_message(exc) or replace_unk_message(exc))
        if unloadable:
            sys.stderr.write(f"fairseq_vmf: error: {unloadable}\n")
            return
        previous_hook(exc_type, exc, tb)

    hook.fairseq_vmf = True
    return hook


def install_excepthook() -> None:
    """Print an uncaught InputError, or a checkpoint that cannot be loaded (damaged, or
    refused by torch's safe loader), as one line instead of a traceback (idempotent)."""
    if not getattr(sys.excepthook, "fairseq_vmf", False):
        sys.excepthook = _print_input_errors(sys.excepthook)
