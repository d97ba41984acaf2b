"""What every ``fairseq-vmf-*`` command shares: YAML configs, logging, error reporting."""

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Callable, List, Optional

from .errors import InputError


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="YAML",
        help="YAML file of option defaults (keys are option names with _ for -); "
        "options on the command line override it",
    )


def parse_args(parser: argparse.ArgumentParser, argv: Optional[List[str]]) -> argparse.Namespace:
    """Parse ``argv``, taking defaults from ``--config`` when given."""
    config_only = argparse.ArgumentParser(add_help=False)
    config_only.add_argument("--config")
    config_path = config_only.parse_known_args(argv)[0].config
    if config_path:
        import yaml

        path = Path(config_path)
        if not path.is_file():
            raise InputError(f"--config {path}: file not found")
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise InputError(f"--config {path}: not valid YAML ({err})") from None
        if not isinstance(values, dict):
            raise InputError(f"--config {path}: expected a mapping of option names to values")
        unknown = sorted(set(values) - {action.dest for action in parser._actions})
        if unknown:
            raise InputError(f"--config {path}: unknown option(s) {', '.join(unknown)}")
        for action in parser._actions:
            if action.dest in values:
                action.required = False  # the config provides it
        parser.set_defaults(**values)
    return parser.parse_args(argv)


def setup_logging() -> None:
    """fairseq's log format, so our lines read like fairseq-train's."""
    logging.basicConfig(
        format="%(asctime)s | %(levelname)s | %(name)s | %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        level=os.environ.get("LOGLEVEL", "INFO").upper(),
        stream=sys.stderr,
    )


def run_main(main: Callable[[Optional[List[str]]], None], prog: str, argv: Optional[List[str]] = None) -> None:
    """Run ``main``; report :class:`InputError` as one line and exit status 2."""
    setup_logging()
    try:
        main(argv)
    except InputError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        sys.exit(2)
