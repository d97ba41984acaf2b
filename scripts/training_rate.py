#!/usr/bin/env python
"""Updates per second of a fairseq-train log: fairseq's ``ups`` on the log's last
``train_inner`` line, the rate of the last ``--log-interval`` updates (after the first
interval's start-up cost). The cost scripts turn it into seconds per update.

    python scripts/training_rate.py LOG [LOG ...]   # one rate per line; LOG may be gzipped

Reads fairseq's ``simple`` log format (``ups=1.61``) and its ``json`` one (``"ups": "1.61"``).
A log without such a line (training failed, or ran fewer updates than ``--log-interval``)
is an error naming the log.
"""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plot_time_to_quality import log_lines  # noqa: E402  (a sibling script)

RATE = re.compile(r"""\bups(?:=|": ")([0-9.]+)""")


def last_updates_per_second(path: Path) -> float:
    """fairseq's ``ups`` on the last ``train_inner`` line of ``path``."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    for line in reversed(log_lines(path)):
        if "train_inner" in line:
            rate = RATE.search(line)
            if rate:
                return float(rate.group(1))
    raise ValueError(f"{path}: no 'train_inner' line with ups= (did the training fail, or run fewer "
                     f"updates than its --log-interval?)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logs", nargs="+", type=Path, help="fairseq-train logs (.gz read as gzip)")
    args = parser.parse_args(argv)
    try:
        rates = [last_updates_per_second(log) for log in args.logs]
    except ValueError as error:
        print(f"training_rate.py: {error}", file=sys.stderr)
        return 2
    for rate in rates:
        print(f"{rate:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
