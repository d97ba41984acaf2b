#!/usr/bin/env bash
# Prepare one Multi30k language pair: Moses tokenization, SentencePiece source / word target,
# fairseq-preprocess, then fastText target embeddings aligned with the target dictionary.
#   usage: scripts/prepare.sh SRC TGT [OUT]      e.g. scripts/prepare.sh en fr
#   RAW_DIR   raw corpus folder (default: ../shared/data/multi30k)
#   VARIANT   fasttext (skip-gram with character n-grams, default) or word2vec
#   VECTORS   a .bin/.vec file of your own to use instead of training vectors
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: prepare.sh SRC TGT [OUT]}
TGT=${2:?usage: prepare.sh SRC TGT [OUT]}
OUT=${3:-data/multi30k.$SRC-$TGT}

prepare_args=(--config "$REPO/configs/prepare/multi30k_words.yaml" --src "$SRC" --tgt "$TGT" --out "$OUT")
if [ -n "${RAW_DIR:-}" ]; then prepare_args+=(--raw-dir "$RAW_DIR"); fi
fairseq-vmf-prepare "${prepare_args[@]}"

embed_args=(--config "$REPO/configs/embeddings/${VARIANT:-fasttext}.yaml" --data "$OUT")
if [ -n "${VECTORS:-}" ]; then embed_args+=(--vectors "$VECTORS"); fi
fairseq-vmf-embed "${embed_args[@]}"
