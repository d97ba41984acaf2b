"""Shared by the analysis scripts: print a Markdown table, and keep it with its rows as JSON."""

import json
import sys
from pathlib import Path
from typing import List, Optional


def emit_table(lines: List[str], rows: dict, out: Optional[Path]) -> None:
    """Print the table; with ``out``, write it there and the rows to ``out`` with suffix .json."""
    table = "\n".join(lines) + "\n"
    sys.stdout.write(table)
    if out:
        out.write_text(table, encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
