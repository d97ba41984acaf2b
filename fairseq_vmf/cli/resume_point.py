"""``python -m fairseq_vmf.cli.resume_point SAVE_DIR``: where a resumed run starts.

fairseq resumes from ``SAVE_DIR/checkpoint_last.pt``. A run killed while fairseq copied a
checkpoint to that name leaves it truncated, and the resume fails inside torch. This
prints nothing when ``checkpoint_last.pt`` is complete or absent (fairseq's own rule
applies); otherwise it moves the damaged file aside (``checkpoint_last.pt.damaged``, never
deleted), says so on stderr, and prints the newest complete checkpoint of the run, for
``fairseq-train --restore-file``. With ``--max-update N`` it prints ``finished`` when the
run already reached N updates, so a finished run is not loaded and trained on.
``scripts/train.sh`` runs it when ``RESUME=1``.
"""

import argparse
import logging
from pathlib import Path
from typing import List, Optional

from ..checkpoint_files import checkpoint_file_problem, newest_good_checkpoint
from ..errors import InputError
from fairseq_vmf_text.commands import run_main

logger = logging.getLogger("fairseq_vmf.resume_point")


def resume_point(save_dir: Path) -> Optional[Path]:
    """None to resume as fairseq does; else the checkpoint to restore instead."""
    if not save_dir.is_dir():
        raise InputError(f"{save_dir}: not a folder")
    last = save_dir / "checkpoint_last.pt"
    if not last.exists():
        return None
    problem = checkpoint_file_problem(last)
    if problem is None:
        return None
    good = newest_good_checkpoint(save_dir, skip=[last])
    if good is None:
        raise InputError(f"{last}: {problem}, and {save_dir} holds no complete checkpoint to resume "
                         f"from: start the run again in a new folder")
    aside = last.with_name(last.name + ".damaged")
    index = 1
    while aside.exists():  # keep every earlier damaged file too
        aside = last.with_name(f"{last.name}.damaged{index}")
        index += 1
    last.rename(aside)
    logger.warning("%s: %s (moved to %s); resuming from %s, the newest complete checkpoint",
                   last, problem, aside.name, good)
    return good


def updates_done(checkpoint: Path) -> int:
    """The number of updates a complete checkpoint was saved at."""
    import torch

    state = torch.load(checkpoint, map_location="cpu")
    return int(state["optimizer_history"][-1]["num_updates"])


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="resume_point", description=__doc__.split("\n\n")[0])
    parser.add_argument("save_dir", type=Path, help="the run's --save-dir")
    parser.add_argument("--max-update", type=int,
                        help="print 'finished' instead when the run already reached this many updates")
    args = parser.parse_args(argv)
    good = resume_point(args.save_dir)
    start = good or args.save_dir / "checkpoint_last.pt"
    if args.max_update is not None and start.exists() and updates_done(start) >= args.max_update:
        print("finished")
    elif good is not None:
        print(good)


def cli_main() -> None:
    run_main(main, "resume_point")


if __name__ == "__main__":
    cli_main()
