"""Checkpoint files on disk: is one complete, and which is the newest good one of a run.

fairseq writes each checkpoint atomically (``.tmp`` then rename) but then *copies* it to
``checkpoint_best.pt`` and ``checkpoint_last.pt``; a job killed during that copy leaves a
truncated ``checkpoint_last.pt``, and fairseq's resume then fails inside torch. torch
saves checkpoints as zip archives with a CRC per member, so a complete file can be told
from a truncated or damaged one without unpickling it.
"""

import zipfile
from pathlib import Path
from typing import List, Optional


def checkpoint_file_problem(path) -> Optional[str]:
    """None if ``path`` is a complete torch zip archive; else what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        return "no such file"
    size = path.stat().st_size
    if size == 0:
        return "the file is empty"
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except zipfile.BadZipFile:
        return f"not a complete checkpoint archive ({size} bytes: truncated, or not a torch checkpoint)"
    except (OSError, EOFError, ValueError) as err:
        return f"unreadable checkpoint archive ({err})"
    if damaged is not None:
        return f"damaged checkpoint archive (bad checksum in {damaged})"
    return None


def run_checkpoints(save_dir) -> List[Path]:
    """The checkpoints fairseq can resume from in ``save_dir``, newest first (by write
    time), ``checkpoint_last.pt`` included; never the ``.tmp`` files of a torn save."""
    files = [p for p in Path(save_dir).glob("checkpoint*.pt") if p.is_file()]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name == "checkpoint_last.pt"), reverse=True)


def newest_good_checkpoint(save_dir, skip=()) -> Optional[Path]:
    """The most recently written complete checkpoint of ``save_dir``, except ``skip``."""
    skipped = {Path(p).resolve() for p in skip}
    for path in run_checkpoints(save_dir):
        if path.resolve() not in skipped and checkpoint_file_problem(path) is None:
            return path
    return None
