#!/usr/bin/env bash
# Prepare one Multi30k language pair: Moses tokenization (and SentencePiece where the data
# variant says so), fairseq-preprocess, then fastText target embeddings aligned with the
# target dictionary.
#   usage: scripts/prepare.sh SRC TGT [OUT]      e.g. scripts/prepare.sh en fr
#   DATA_VARIANT  configs/prepare/multi30k_DATA_VARIANT.yaml: word_word (default: words seen
#                 twice or more on both sides, the main job's data), words (SentencePiece
#                 source, word target), word_bpe, bpe_bpe
#   OUT       default data/multi30k-DATA_VARIANT.SRC-TGT
#   RAW_DIR   raw corpus folder (default: ../shared/data/multi30k)
#   VARIANT   fasttext (skip-gram with character n-grams, default) or word2vec
#   VECTORS   a .bin/.vec file of your own (or a softmax checkpoint .pt) instead of training vectors
#   EMBED_ARGS  more fairseq-vmf-embed flags
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
