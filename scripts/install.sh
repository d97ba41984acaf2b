#!/usr/bin/env bash
# Make a virtual environment (default .venv) with the pinned stack and fairseq_vmf installed
# in editable mode, so `--user-dir fairseq_vmf` and the fairseq-vmf-* commands both work.
#   VENV=path      where to make it (default: .venv in the checkout)
#   PYTHON=cmd     the Python 3.11 to build it from (default: python3.11, else python3)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "install.sh: $PYTHON is Python $("$PYTHON" -c 'import platform; print(platform.python_version())'); the pinned stack needs 3.11 (set PYTHON=)" >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -c constraints.txt -e ".[test]"
"$VENV/bin/python" -c "import fairseq, fairseq_vmf; print('fairseq', fairseq.__version__, '| fairseq_vmf', fairseq_vmf.__version__, 'installed in $VENV')"
