"""Idempotent pipeline steps that never clobber files they did not make.

Each step records, in ``<workdir>/.steps/<name>.json``, the settings and input
fingerprints it ran with and the files it made. On a re-run:

* same settings and inputs, outputs all present: the step is skipped;
* different settings or inputs: stop and say so, unless ``overwrite`` was asked for;
* outputs present but no record: they are somebody else's files: stop, unless
  ``overwrite`` was asked for;
* a record marked ``running`` (the step was interrupted): its partial outputs are ours,
  so the step simply runs again.
"""

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Callable, Dict, Iterable, List

from ..errors import InputError

logger = logging.getLogger(__name__)


# Larger files (a user's multi-GB .vec) are identified by size and mtime instead of
# their hash, which would take longer than the step that reads them.
HASH_LIMIT_BYTES = 256 << 20


def file_fingerprint(path: Path) -> str:
    """sha256 of a file's bytes, or its size and mtime when it is very large."""
    stat = Path(path).stat()
    if stat.st_size > HASH_LIMIT_BYTES:
        return f"size={stat.st_size},mtime={int(stat.st_mtime)}"
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_record(stamp: Path):
    """A step's record; a record cut short (the run was killed while writing it) reads as
    an interrupted step, whose partial outputs are ours."""
    if not stamp.is_file():
        return None
    try:
        record = json.loads(stamp.read_text())
    except (ValueError, UnicodeDecodeError):
        return {"state": "running"}
    return record if isinstance(record, dict) else {"state": "running"}


def write_record(stamp: Path, record: Dict) -> None:
    """Replace a step's record in one rename, so a kill leaves the old record or the new one."""
    partial = stamp.with_name(stamp.name + ".tmp")
    partial.write_text(json.dumps(record, indent=1))
    os.replace(partial, stamp)


class StepRunner:
    """Runs named steps inside ``workdir`` with the rules in the module docstring."""

    def __init__(self, workdir: Path, overwrite: bool = False):
        self.workdir = Path(workdir)
        self.overwrite = overwrite

    def _stamp(self, name: str) -> Path:
        return self.workdir / ".steps" / f"{name}.json"

    def run(
        self,
        name: str,
        outputs: List[Path],
        settings: Dict,
        build: Callable[[], None],
        inputs: Iterable[Path] = (),
    ) -> bool:
        """Run ``build`` unless step ``name`` is already done; returns whether it ran."""
        outputs = [Path(p) for p in outputs]
        record = {
            "settings": settings,
            "inputs": {str(p): file_fingerprint(Path(p)) for p in inputs},
            "outputs": [str(p) for p in outputs],
        }
        stamp = self._stamp(name)
        previous = read_record(stamp)
        if previous is not None and previous.get("state") == "done":
            same = all(previous.get(k) == record[k] for k in ("settings", "inputs", "outputs"))
            if same and all(p.exists() for p in outputs):
                logger.info("%s: already done, skipping", name)
                return False
            if not same and not self.overwrite:
                changed = [k for k in ("settings", "inputs", "outputs") if previous.get(k) != record[k]]
                raise InputError(
                    f"{self.workdir}: step '{name}' was already done with different "
                    f"{' and '.join(changed)}; pass --overwrite to redo it, or choose another output folder"
                )
        elif previous is None:
            foreign = [p for p in outputs if p.exists()]
            if foreign and not self.overwrite:
                raise InputError(
                    f"{foreign[0]}: exists and was not made by this pipeline; "
                    "refusing to overwrite it (pass --overwrite to replace it)"
                )
        logger.info("%s: running", name)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        write_record(stamp, {**record, "state": "running"})
        build()
        missing = [str(p) for p in outputs if not p.exists()]
        if missing:
            raise RuntimeError(f"step '{name}' finished without making {missing}")
        write_record(stamp, {**record, "state": "done"})
        return True
