#!/usr/bin/env bash
# Prepare one Multi30k language pair: Moses tokenization, SentencePiece source / word target,
# fairseq-preprocess, then fastText target embeddings aligned with the target dictionary.
#   usage: scripts/prepare.sh SRC TGT [OUT]      e.g. scripts/prepare.sh en fr
#   RAW_DIR   raw corpus folder (default: ../shared/data/multi30k)
#   VARIANT   fasttext (skip-gram with character n-grams, default) or word2vec
#   VECTORS   a .bin/.vec file of your own to use instead of training vectors
set -euo pipefail
SRC=${1:?usage: prepare.sh SRC TGT [OUT]}
TGT=${2:?usage: prepare.sh SRC TGT [OUT]}
OUT=${3:-data/multi30k.$SRC-$TGT}

prepare_args=(--src "$SRC" --tgt "$TGT" --out "$OUT")
[ -n "${RAW_DIR:-}" ] && prepare_args+=(--raw-dir "$RAW_DIR")
fairseq-vmf-prepare "${prepare_args[@]}"

embed_args=(--data "$OUT" --variant "${VARIANT:-fasttext}")
[ -n "${VECTORS:-}" ] && embed_args+=(--vectors "$VECTORS")
fairseq-vmf-embed "${embed_args[@]}"
