#!/usr/bin/env bash
# Train one system on a prepared pair for a wall-clock budget, keeping the best checkpoint
# by validation BLEU (greedy decoding, detokenized sacreBLEU).
#   usage: scripts/train.sh SRC TGT SYSTEM [DATA] [SAVE_DIR]
#   SYSTEM   vmf      continuous_transformer_small, vmf loss, decoder inputs tied to the table
#            softmax  transformer of the same body, label_smoothed_cross_entropy, same data
#            plif     softmax + LMS-PLIF on the logits (Ganea et al. 2019; K = 1e5, T = 20)
#            augmented  softmax, tied, + Inan et al.'s augmented loss (--criterion tied_augmented_ce)
#            All softmax systems tie decoder input/output embeddings.
#   TRAIN_MINUTES  wall-clock budget (default 15); the longer setting: TRAIN_MINUTES=120
#   MAX_TOKENS     tokens per batch (default 4096)     SEED (default 1)
#   EXTRA_ARGS     more fairseq-train flags, appended last
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: train.sh SRC TGT SYSTEM [DATA] [SAVE_DIR]}
TGT=${2:?usage: train.sh SRC TGT SYSTEM [DATA] [SAVE_DIR]}
SYSTEM=${3:?usage: train.sh SRC TGT SYSTEM [DATA] [SAVE_DIR]}
DATA=${4:-data/multi30k.$SRC-$TGT}
SAVE=${5:-checkpoints/$SRC-$TGT.$SYSTEM}
MINUTES=${TRAIN_MINUTES:-15}
TABLE="$DATA/embeddings/fasttext.$TGT.npz"

if [ -e "$SAVE/checkpoint_last.pt" ] && [ -z "${RESUME:-}" ]; then
  echo "train.sh: $SAVE already holds a training run; set RESUME=1 to continue it or pick another SAVE_DIR" >&2
  exit 2
fi
mkdir -p "$SAVE"

# a SentencePiece target is scored as decoded pieces, a word target after Moses detokenization
TGT_SEG=$(python -c "import json, sys; print(json.load(open(sys.argv[1]))['segmentation'][sys.argv[2]])" \
  "$DATA/prepare.json" "$TGT") || { echo "train.sh: cannot read the $TGT segmentation from $DATA/prepare.json" >&2; exit 2; }
if [ "$TGT_SEG" = spm ]; then
  bleu_detok=(--eval-bleu-remove-bpe sentencepiece --eval-bleu-detok space)
else
  bleu_detok=(--eval-bleu-detok moses)
fi

common=(
  "$DATA/bin" --source-lang "$SRC" --target-lang "$TGT"
  --user-dir "$REPO/fairseq_vmf"
  --optimizer adam --adam-betas '(0.9, 0.98)' --lr 7e-4
  --lr-scheduler inverse_sqrt --warmup-updates 500 --clip-norm 5.0
  --max-tokens "${MAX_TOKENS:-4096}" --seed "${SEED:-1}"
  --stop-time-hours "$(awk "BEGIN { print $MINUTES / 60 }")" --max-epoch 1000
  --eval-bleu "${bleu_detok[@]}" --eval-bleu-args '{"beam": 1, "max_len_a": 1.2, "max_len_b": 10}'
  --best-checkpoint-metric bleu --maximize-best-checkpoint-metric
  --no-epoch-checkpoints --save-dir "$SAVE" --log-format simple --log-interval 50
  --num-workers 0
)
# the body of continuous_transformer_small and plif_transformer_small, for --arch transformer
small_transformer=(--encoder-layers 3 --decoder-layers 3 --encoder-embed-dim 256 --decoder-embed-dim 256
                   --encoder-ffn-embed-dim 1024 --decoder-ffn-embed-dim 1024
                   --encoder-attention-heads 4 --decoder-attention-heads 4 --dropout 0.2)
case "$SYSTEM" in
  vmf)
    system=(--task translation_vmf --target-embeddings "$TABLE"
            --arch continuous_transformer_small --tie-target-embeddings --criterion vmf) ;;
  softmax)
    system=(--task translation --arch transformer "${small_transformer[@]}"
            --share-decoder-input-output-embed
            --criterion label_smoothed_cross_entropy --label-smoothing 0.1) ;;
  plif)
    system=(--task translation --arch plif_transformer_small --share-decoder-input-output-embed
            --criterion label_smoothed_cross_entropy --label-smoothing 0.1) ;;
  augmented)
    system=(--task translation --arch transformer "${small_transformer[@]}"
            --share-decoder-input-output-embed
            --criterion tied_augmented_ce --label-smoothing 0.1) ;;
  *) echo "train.sh: unknown SYSTEM '$SYSTEM' (vmf, softmax, plif or augmented)" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
fairseq-train "${common[@]}" "${system[@]}" ${EXTRA_ARGS:-} 2>&1 | tee -a "$SAVE/train.log"
