"""Paths the plugin's commands share (the shared options and error reporting are in
``fairseq_vmf_text.commands``, under every ``fairseq-vmf-*`` command)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_raw_dir() -> Path:
    """``../shared/data/multi30k`` beside the checkout (or the current folder), if present."""
    candidates = [Path.cwd() / "../shared/data/multi30k", REPO_ROOT / "../shared/data/multi30k"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return candidates[0]


def print_user_dir() -> None:
    """Entry point ``fairseq-vmf-user-dir``: the path to pass as ``--user-dir``."""
    print(Path(__file__).resolve().parents[1])
