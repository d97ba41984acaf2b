#!/usr/bin/env bash
# The main job, from a fresh checkout after scripts/install.sh: prepare a Multi30k pair and
# its target embeddings, train a small continuous-output Transformer with the vMF loss for a
# wall-clock budget, translate test_2016_flickr (beam 5) and print sacreBLEU with its signature.
#   usage: scripts/main.sh [SRC] [TGT]        (default: en fr; also en de, fr en, de en, ...)
#   TRAIN_MINUTES  training budget (default 15; the longer setting: 120)
#   SAVE_DIR       checkpoint folder (default checkpoints/SRC-TGT.vmf); an existing run there
#                  is not touched: the job refuses to start (set RESUME=1 to continue it)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ -x "$VENV/bin/python" ]; then
  export PATH="$(cd "$VENV" && pwd)/bin:$PATH"
fi
SRC=${1:-en}
TGT=${2:-fr}
SAVE=${SAVE_DIR:-checkpoints/$SRC-$TGT.vmf}
bash scripts/prepare.sh "$SRC" "$TGT"
bash scripts/train.sh "$SRC" "$TGT" vmf "data/multi30k.$SRC-$TGT" "$SAVE"
bash scripts/translate.sh "$SRC" "$TGT" "$SAVE" "data/multi30k.$SRC-$TGT"
