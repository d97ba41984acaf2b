"""``fairseq-vmf-average``: average the parameters of a run's last epoch checkpoints.

fairseq's own ``scripts/average_checkpoints.py`` lives in its source tree, not in the
installed package, so the plugin carries the same operation: the element-wise mean of
every floating-point tensor of ``state["model"]`` over the checkpoints, written as a new
checkpoint (the newest one's configuration, without its optimizer state). Tensors equal
in every checkpoint, such as the frozen target table, are copied unchanged rather than
averaged, so they stay bit-identical and the table checks of ``--decode-target-embeddings``
still match.
"""

import argparse
import logging
import re
from pathlib import Path
from typing import List, Optional

import torch

from ..checkpoint_files import checkpoint_file_problem
from ..errors import InputError
from fairseq_vmf_text.commands import run_main

logger = logging.getLogger("fairseq_vmf.average")
EPOCH_CHECKPOINT = re.compile(r"checkpoint(\d+)\.pt$")


def last_epoch_checkpoints(save_dir: Path, count: int) -> List[Path]:
    """The ``count`` highest-numbered ``checkpointN.pt`` of ``save_dir``, oldest first."""
    found = sorted(((int(m.group(1)), p) for p in save_dir.glob("checkpoint*.pt")
                    if (m := EPOCH_CHECKPOINT.search(p.name))))
    if len(found) < count:
        raise InputError(f"{save_dir}: {len(found)} epoch checkpoints (checkpointN.pt), --last {count} asked for")
    return [path for _, path in found[-count:]]


def average_states(states: List[dict]) -> dict:
    """The mean of each model tensor over ``states`` (float32 accumulation)."""
    names = list(states[0]["model"])
    for state in states[1:]:
        if list(state["model"]) != names:
            raise InputError("the checkpoints hold different parameters: they are not from one run")
    averaged = {}
    for name in names:
        tensors = [state["model"][name] for state in states]
        first = tensors[0]
        if not first.is_floating_point() or all(torch.equal(first, t) for t in tensors[1:]):
            averaged[name] = first.clone()
            continue
        total = torch.zeros_like(first, dtype=torch.float32)
        for tensor in tensors:
            total += tensor.float()
        averaged[name] = (total / len(tensors)).to(first.dtype)
    return averaged


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="fairseq-vmf-average", description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", nargs="+", type=Path, help="checkpoint files, or one run folder with --last")
    parser.add_argument("--last", type=int, help="average the last N epoch checkpoints of the run folder")
    parser.add_argument("--output", type=Path, required=True, help="the averaged checkpoint to write")
    args = parser.parse_args(argv)
    if not args.inputs:
        raise InputError("--inputs: give checkpoint files, or a run folder with --last N")
    if args.last is not None:
        if args.last < 1 or len(args.inputs) != 1 or not args.inputs[0].is_dir():
            raise InputError("--last N (N >= 1) takes exactly one run folder as --inputs")
        paths = last_epoch_checkpoints(args.inputs[0], args.last)
    else:
        paths = args.inputs
    if args.output.exists():
        raise InputError(f"--output {args.output}: exists; choose a new file (nothing is overwritten)")
    for path in paths:
        problem = checkpoint_file_problem(path)
        if problem:
            raise InputError(f"{path}: {problem}")
    from fairseq import checkpoint_utils

    # as saved (torch's safe loader with the plugin's allow-list), not fairseq's loader, which
    # would turn the configuration into OmegaConf objects that a checkpoint must not hold
    states = [torch.load(path, map_location="cpu") for path in paths]
    result = dict(states[-1])
    result["model"] = average_states(states)
    result.pop("last_optimizer_state", None)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    checkpoint_utils.torch_persistent_save(result, str(args.output))
    logger.info("averaged %d checkpoints (%s) into %s", len(paths), ", ".join(p.name for p in paths), args.output)


def cli_main() -> None:
    run_main(main, "fairseq-vmf-average")


if __name__ == "__main__":
    cli_main()
