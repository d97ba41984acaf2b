"""The one exception type for problems in what the user gave us (a file, a flag).

Command-line entry points catch it and print its message on one line, without a
traceback: the message itself must name the file or flag and say what is wrong.
"""


import sys


class InputError(Exception):
    """Bad user input: a missing or malformed file, an unsupported option value."""


def _print_input_errors(previous_hook):
    def hook(exc_type, exc, tb):
        if issubclass(exc_type, InputError):
            # fairseq's own CLIs (fairseq-train, -generate) do not catch our errors;
            # the message names the file or flag, so the traceback adds nothing.
            sys.stderr.write(f"fairseq_vmf: error: {exc}\n")
            return
        previous_hook(exc_type, exc, tb)

    hook.fairseq_vmf = True
    return hook


def install_excepthook() -> None:
    """Print an uncaught InputError as one line instead of a traceback (idempotent)."""
    if not getattr(sys.excepthook, "fairseq_vmf", False):
        sys.excepthook = _print_input_errors(sys.excepthook)
