#!/usr/bin/env bash
# The target table taken from a converged softmax model: train the softmax twin (scripts/train.sh
# softmax, its own recipe), average its last 5 epoch checkpoints and write its output embeddings
# as a continuous-output table (fairseq-vmf-embed --vectors). The best continuous tables here
# (results/quality/levers.md); the twin's training time counts in the continuous model's.
#   usage: scripts/softmax_twin_table.sh SRC TGT DATA TWIN_DIR
#   prints the table's path (DATA/embeddings/<TWIN_DIR's name>.TGT.npz) as its last line; an
#   existing table is reused, nothing is retrained
#   TWIN_MAX_UPDATE   the twin's update budget (default 3000, its converged recipe)
#   TWIN_EXTRA_ARGS   more fairseq-train flags for the twin (the continuous model's EXTRA_ARGS,
#                     TABLE, DROPOUT, LR, WARMUP, TIED, LOSS, PRE_NORM do not reach it)
#   RESUME=1          continue an interrupted twin in TWIN_DIR (scripts/train.sh)
#   SEED, BODY, MAX_TOKENS   as in scripts/train.sh
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: softmax_twin_table.sh SRC TGT DATA TWIN_DIR}
TGT=${2:?usage: softmax_twin_table.sh SRC TGT DATA TWIN_DIR}
DATA=${3:?usage: softmax_twin_table.sh SRC TGT DATA TWIN_DIR}
TWIN=${4:?usage: softmax_twin_table.sh SRC TGT DATA TWIN_DIR}
NAME=$(basename "$TWIN")
NAME=${NAME%."$TGT"}  # as fairseq-vmf-embed names it: twin "x.fr" -> table "x.fr.npz", not "x.fr.fr.npz"
TABLE_OUT=$DATA/embeddings/$NAME.$TGT.npz
if [ -f "$TABLE_OUT" ]; then echo "$TABLE_OUT"; exit 0; fi

# the twin trains with its own recipe: the continuous model's settings stay out of it
env -u TABLE -u DROPOUT -u LR -u WARMUP -u TIED -u LOSS -u TRAIN_MINUTES -u COSINE_WARMUP -u TABLE_NLL -u PRE_NORM \
  EXTRA_ARGS="${TWIN_EXTRA_ARGS:-}" MAX_UPDATE="${TWIN_MAX_UPDATE:-3000}" \
  bash "$REPO/scripts/train.sh" "$SRC" "$TGT" softmax "$DATA" "$TWIN" >&2
epochs=$(find "$TWIN" -maxdepth 1 -name 'checkpoint[0-9]*.pt' | wc -l)
if [ "$epochs" -ge 2 ]; then  # the mean of the last 5 epochs, as the twin's reported rows
  AVG=$TWIN/checkpoint_avg_last5.pt
  rm -f "$AVG"
  python -m fairseq_vmf.cli.average_checkpoints --inputs "$TWIN" --last "$((epochs < 5 ? epochs : 5))" --output "$AVG" >&2
else  # a budget shorter than two epochs: its last checkpoint
  AVG=$TWIN/checkpoint_last.pt
fi
# without --dim the table keeps the checkpoint's embedding size
fairseq-vmf-embed --data "$DATA" --vectors "$AVG" --name "$NAME" >&2
echo "$TABLE_OUT"
