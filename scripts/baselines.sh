#!/usr/bin/env bash
# The softmax rows of the comparison on one pair, each through the same preparation,
# training budget, decoding and scoring path as the continuous main job:
#   word->word, word->BPE, BPE->BPE (label_smoothed_cross_entropy, tied embeddings),
#   and, on the main job's data (word->word), +PLIF and +augmented loss.
#   usage: scripts/baselines.sh SRC TGT [ROWS]
#   ROWS      which rows to run (default "word_word word_bpe bpe_bpe plif augmented")
#   MAX_UPDATE, BODY, ... (as train.sh)   BEAM (default 5)   RAW_DIR (as prepare.sh)
# Each row writes checkpoints/SRC-TGT.ROW/ (train.log, test.beamN.bleu.json); an existing
# row is not retrained (train.sh refuses) - delete its folder or pick ROWS.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: baselines.sh SRC TGT [ROWS]}
TGT=${2:?usage: baselines.sh SRC TGT [ROWS]}
ROWS=${3:-word_word word_bpe bpe_bpe plif augmented}

prepare_variant() {  # $1: configs/prepare/multi30k_$1.yaml -> data/multi30k-$1.SRC-TGT
  local out="data/multi30k-$1.$SRC-$TGT"
  local args=(--config "$REPO/configs/prepare/multi30k_$1.yaml" --src "$SRC" --tgt "$TGT" --out "$out")
  if [ -n "${RAW_DIR:-}" ]; then args+=(--raw-dir "$RAW_DIR"); fi
  fairseq-vmf-prepare "${args[@]}" >&2
  echo "$out"
}

for row in $ROWS; do
  case "$row" in
    word_word|word_bpe|bpe_bpe) data=$(prepare_variant "$row"); system=softmax ;;
    plif|augmented) data=$(prepare_variant word_word); system=$row ;;
    *) echo "baselines.sh: unknown row '$row' (word_word word_bpe bpe_bpe plif augmented)" >&2; exit 2 ;;
  esac
  save="checkpoints/$SRC-$TGT.$row"
  bash "$REPO/scripts/train.sh" "$SRC" "$TGT" "$system" "$data" "$save"
  BEAM=${BEAM:-5} bash "$REPO/scripts/translate.sh" "$SRC" "$TGT" "$save" "$data"
done
