#!/usr/bin/env bash
# The main job, from a fresh checkout after scripts/install.sh: prepare a Multi30k pair and
# its target embeddings (training and translation join here as they land).
#   usage: scripts/main.sh [SRC] [TGT]   (default: en fr)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ -x "$VENV/bin/python" ]; then
  export PATH="$PWD/$VENV/bin:$PATH"
fi
SRC=${1:-en}
TGT=${2:-fr}
bash scripts/prepare.sh "$SRC" "$TGT"
