#!/usr/bin/env bash
# Prepare one Multi30k language pair: Moses tokenization (and SentencePiece where the data
# variant says so), fairseq-preprocess, then fastText target embeddings aligned with the
# target dictionary, and the recipe's table: the same rows mixed half with random directions.
#   usage: scripts/prepare.sh SRC TGT [OUT]      e.g. scripts/prepare.sh en fr
#   DATA_VARIANT  configs/prepare/multi30k_DATA_VARIANT.yaml: word_word (default: words seen
#                 twice or more on both sides, the main job's data), words (SentencePiece
#                 source, word target), word_bpe, bpe_bpe
#   OUT       default data/multi30k-DATA_VARIANT.SRC-TGT
#   RAW_DIR   raw corpus folder (default: ../shared/data/multi30k)
#   VARIANT   fasttext (skip-gram with character n-grams, default) or word2vec
#   VECTORS   a .bin/.vec file of your own (or a softmax checkpoint .pt) instead of training vectors
#   EMBED_ARGS  more fairseq-vmf-embed flags
#   TABLE_MIX   W of the second table VARIANT_mixW.TGT.npz = unit(sqrt(1-W) row + sqrt(W) random),
#               the continuous recipe's default (fairseq-vmf-embed --random-mix; default 0.5:
#               pretrained tables are crowded, results/quality/levers.md; 0 = no second table)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: prepare.sh SRC TGT [OUT]}
TGT=${2:?usage: prepare.sh SRC TGT [OUT]}
DATA_VARIANT=${DATA_VARIANT:-word_word}
OUT=${3:-data/multi30k-$DATA_VARIANT.$SRC-$TGT}
CONFIG="$REPO/configs/prepare/multi30k_$DATA_VARIANT.yaml"
[ -f "$CONFIG" ] || { echo "prepare.sh: DATA_VARIANT=$DATA_VARIANT: no $CONFIG" >&2; exit 2; }

prepare_args=(--config "$CONFIG" --src "$SRC" --tgt "$TGT" --out "$OUT")
if [ -n "${RAW_DIR:-}" ]; then prepare_args+=(--raw-dir "$RAW_DIR"); fi
fairseq-vmf-prepare "${prepare_args[@]}"

embed_args=(--config "$REPO/configs/embeddings/${VARIANT:-fasttext}.yaml" --data "$OUT")
if [ -n "${VECTORS:-}" ]; then embed_args+=(--vectors "$VECTORS"); fi
# shellcheck disable=SC2206
embed_args+=(${EMBED_ARGS:-})
fairseq-vmf-embed "${embed_args[@]}"

# the recipe's table, from the same vectors (no second training): made again only if missing
mix=${TABLE_MIX:-0.5}
if [ "$mix" != 0 ] && [ "${VARIANT:-fasttext}" != random ]; then
  vectors=${VECTORS:-$OUT/embeddings/${VARIANT:-fasttext}.$TGT.bin}
  name=${VARIANT:-fasttext}_mix$mix
  if [ -n "${VECTORS:-}" ]; then name=$(basename "${VECTORS%.*}")_mix$mix; fi
  # with EMBED_ARGS too: a --dim there is the vectors' dimension, which the mix must be asked for
  # shellcheck disable=SC2086
  fairseq-vmf-embed --data "$OUT" ${EMBED_ARGS:-} --vectors "$vectors" --random-mix "$mix" --name "$name"
fi
