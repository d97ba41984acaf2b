#!/usr/bin/env bash
# Train one system on a prepared pair to a fixed update budget, keeping the best checkpoint
# by validation BLEU (batched greedy decoding, detokenized sacreBLEU) and the last epochs
# for checkpoint averaging. Every system shares one body, so rows differ only in the output
# layer and the loss.
#   usage: scripts/train.sh SRC TGT SYSTEM [DATA] [SAVE_DIR]
#   SYSTEM   vmf      continuous Transformer, vmf loss, decoder inputs tied to the table
#            softmax  Transformer of the same body, label_smoothed_cross_entropy, same data
#            plif     softmax + LMS-PLIF on the logits (Ganea et al. 2019; K = 1e5, T = 20)
#            augmented  softmax, tied, + Inan et al.'s augmented loss (--criterion tied_augmented_ce)
#            adaptive   adaptive softmax (Grave et al. 2017; clusters cut at ADAPTIVE_CUTOFF, default
#                       "1000,3000"), untied: fairseq's adaptive softmax has its own output weights
#            The other softmax systems tie decoder input/output embeddings (softmax: unless TIED=0).
#   BODY           tiny (default: 4+4 layers, 128-d, FFN 256, 4 heads) or small (3+3, 256-d, FFN 1024)
#   DROPOUT        default 0.1 for softmax (its tuning runs: results/quality/levers.md), 0.3 for the others
#   MAX_UPDATE     update budget (default 3000: where the learning curves of results/quality flatten)
#   LR, WARMUP     peak learning rate and inverse-sqrt warm-up (defaults 5e-3 and 1000 for tiny,
#                  1e-3 and 1000 for small)
#   TABLE          the vmf system's target table (default DATA/embeddings/fasttext_mix0.5.TGT.npz,
#                  made by scripts/prepare.sh: fastText rows mixed half with random directions,
#                  valid BLEU +3.5 en-fr / +5.6 en-de over plain fastText at ~1000 updates,
#                  results/quality/levers.md; DATA/embeddings/fasttext.TGT.npz is the paper's table)
#   COSINE_WARMUP  updates of cosine loss before the vmf loss (default 500: +3 valid BLEU at 726
#                  updates on en-fr, results/quality/levers.md; 0 = off)
#   TABLE_NLL      weight of the vMF renormalised over the batch's target words, added to the vmf
#                  loss (--vmf-table-nll-weight; default 10: valid BLEU 34.8 at 968 updates on
#                  en-fr against 30.6 with 1 and 20.0 without, results/quality/levers.md; 0 = the
#                  paper's loss alone)
#   LOSS           the vmf system's criterion: vmf (default), cosine, l2 or max_margin (the paper's
#                  other continuous losses; COSINE_WARMUP applies to vmf only)
#   TIED           vmf: 0 (default) learns the decoder input embeddings (valid BLEU +2.3 at 968
#                  updates with the renormalised term, results/quality/levers.md); 1: the decoder
#                  inputs are the frozen table (+ a learned projection). softmax: 1 (default) ties
#                  decoder input and output embeddings; 0 unties them
#   PRE_NORM       1: LayerNorm before each sublayer (--encoder/decoder-normalize-before); default 1
#                  for vmf (valid BLEU +0.5 on the mixed fastText table and +1.4 on the softmax
#                  twin's table at 5,000 updates, results/quality/levers.md), 0 for the softmax systems
#   TRAIN_MINUTES  optional wall-clock cap on top of MAX_UPDATE (the quick mode)
#   MAX_TOKENS     tokens per batch (default 4096)     SEED (default 1)
#   RESUME=1       continue the run in SAVE_DIR from its last checkpoint, with the settings it was
#                  trained with (refused otherwise: scripts/same_training.py; MAX_UPDATE may grow)
#   EXTRA_ARGS     more fairseq-train flags, appended last
#   PRINT_ARGS=1   print the fairseq-train arguments (one per line) and exit; nothing is written
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: train.sh SRC TGT SYSTEM [DATA] [SAVE_DIR]}
TGT=${2:?usage: train.sh SRC TGT SYSTEM [DATA] [SAVE_DIR]}
SYSTEM=${3:?usage: train.sh SRC TGT SYSTEM [DATA] [SAVE_DIR]}
DATA=${4:-data/multi30k.$SRC-$TGT}
SAVE=${5:-checkpoints/$SRC-$TGT.$SYSTEM}
BODY=${BODY:-tiny}
TABLE=${TABLE:-$DATA/embeddings/fasttext_mix0.5.$TGT.npz}
if [ "$SYSTEM" = vmf ] && [ ! -f "$TABLE" ]; then
  echo "train.sh: TABLE=$TABLE: no such table; run scripts/prepare.sh $SRC $TGT $DATA (it makes it) or set TABLE" >&2
  exit 2
fi

if [ -e "$SAVE/checkpoint_last.pt" ] && [ -z "${RESUME:-}" ] && [ -z "${PRINT_ARGS:-}" ]; then
  echo "train.sh: $SAVE already holds a training run; set RESUME=1 to continue it or pick another SAVE_DIR" >&2
  exit 2
fi
restore=()
if [ -z "${PRINT_ARGS:-}" ]; then mkdir -p "$SAVE"; fi
if [ -n "${RESUME:-}" ] && [ -z "${PRINT_ARGS:-}" ]; then
  # a run killed while fairseq copied a checkpoint leaves checkpoint_last.pt truncated:
  # resume from the newest complete checkpoint instead (the damaged file is moved aside)
  good=$(python -m fairseq_vmf.cli.resume_point "$SAVE" --max-update "${MAX_UPDATE:-3000}")
  if [ "$good" = finished ]; then
    echo "train.sh: $SAVE already reached ${MAX_UPDATE:-3000} updates; nothing to train" >&2
    exit 0
  fi
  if [ -n "$good" ]; then restore=(--restore-file "$good"); fi
fi

# a SentencePiece target is scored as decoded pieces, a word target after Moses detokenization
TGT_SEG=$(python -c "import json, sys; print(json.load(open(sys.argv[1]))['segmentation'][sys.argv[2]])" \
  "$DATA/prepare.json" "$TGT") || { echo "train.sh: cannot read the $TGT segmentation from $DATA/prepare.json" >&2; exit 2; }
if [ "$TGT_SEG" = spm ]; then
  bleu_detok=(--eval-bleu-remove-bpe sentencepiece --eval-bleu-detok space)
else
  bleu_detok=(--eval-bleu-detok moses)
fi

# Every system trains the same body (models/transformer_bodies.py defines each size once):
# continuous_transformer_BODY, softmax_transformer_BODY or plif_transformer_BODY.
case "$BODY" in
  tiny) lr=${LR:-5e-3} ;;   # Wu et al. 2021's "Transformer-Tiny"
  small) lr=${LR:-1e-3} ;;  # the anchor body of the shared notes (57.3 BLEU en->fr with softmax)
  *) echo "train.sh: unknown BODY '$BODY' (tiny or small)" >&2; exit 2 ;;
esac

# softmax converges 2.1 valid BLEU higher with dropout 0.1; the continuous model learns faster
# with it but ends 1.8 lower (results/quality/levers.md), so it keeps 0.3
case "$SYSTEM" in softmax) dropout=${DROPOUT:-0.1} ;; *) dropout=${DROPOUT:-0.3} ;; esac

case "$SYSTEM" in vmf) pre_norm=${PRE_NORM:-1} ;; *) pre_norm=${PRE_NORM:-0} ;; esac
case "$pre_norm" in
  1) layer_norm=(--encoder-normalize-before --decoder-normalize-before) ;;
  0) layer_norm=() ;;
  *) echo "train.sh: PRE_NORM=$pre_norm: 1 (LayerNorm before each sublayer) or 0 (after)" >&2; exit 2 ;;
esac

budget=(--max-update "${MAX_UPDATE:-3000}" --max-epoch 1000)
if [ -n "${TRAIN_MINUTES:-}" ]; then
  budget+=(--stop-time-hours "$(awk "BEGIN { print $TRAIN_MINUTES / 60 }")")
fi

common=(
  "$DATA/bin" --source-lang "$SRC" --target-lang "$TGT"
  --user-dir "$REPO/fairseq_vmf" --dropout "$dropout" "${layer_norm[@]}" "${budget[@]}"
  --optimizer adam --adam-betas '(0.9, 0.98)' --lr "$lr"
  --lr-scheduler inverse_sqrt --warmup-updates "${WARMUP:-1000}" --warmup-init-lr 1e-7 --clip-norm 5.0
  --max-tokens "${MAX_TOKENS:-4096}" --seed "${SEED:-1}"
  --eval-bleu "${bleu_detok[@]}" --eval-bleu-args '{"beam": 1, "max_len_a": 1.2, "max_len_b": 10}'
  --max-tokens-valid 8192
  --best-checkpoint-metric bleu --maximize-best-checkpoint-metric
  --keep-last-epochs 5 --save-dir "$SAVE" --log-format simple --log-interval 50
  --num-workers 0
)
case "$SYSTEM" in
  vmf)
    system=(--task translation_vmf --target-embeddings "$TABLE" --arch "continuous_transformer_$BODY")
    case "${LOSS:-vmf}" in
      vmf) system+=(--criterion vmf --vmf-cosine-warmup-updates "${COSINE_WARMUP:-500}"
                    --vmf-table-nll-weight "${TABLE_NLL:-10}") ;;
      cosine|l2|max_margin) system+=(--criterion "$LOSS") ;;
      *) echo "train.sh: unknown LOSS '$LOSS' (vmf, cosine, l2 or max_margin)" >&2; exit 2 ;;
    esac
    if [ "${TIED:-0}" = 1 ]; then system+=(--tie-target-embeddings); fi ;;
  softmax)
    system=(--task translation --arch "softmax_transformer_$BODY"
            --criterion label_smoothed_cross_entropy --label-smoothing 0.1)
    if [ "${TIED:-1}" = 1 ]; then system+=(--share-decoder-input-output-embed); fi ;;
  plif)
    system=(--task translation --arch "plif_transformer_$BODY" --share-decoder-input-output-embed
            --criterion label_smoothed_cross_entropy --label-smoothing 0.1) ;;
  augmented)
    system=(--task translation --arch "softmax_transformer_$BODY" --share-decoder-input-output-embed
            --criterion tied_augmented_ce --label-smoothing 0.1) ;;
  adaptive)
    system=(--task translation --arch "softmax_transformer_$BODY" --criterion adaptive_loss
            --adaptive-softmax-cutoff "${ADAPTIVE_CUTOFF:-1000,3000}" --adaptive-softmax-dropout 0.1
            --ddp-backend legacy_ddp) ;;  # fairseq's adaptive_loss refuses the default pytorch_ddp
  *) echo "train.sh: unknown SYSTEM '$SYSTEM' (vmf, softmax, plif, augmented or adaptive)" >&2; exit 2 ;;
esac
if [ -n "${PRINT_ARGS:-}" ]; then  # the fairseq-train arguments, one per line; nothing is run
  # shellcheck disable=SC2086
  printf '%s\n' "${common[@]}" "${system[@]}" ${EXTRA_ARGS:-}
  exit 0
fi
if [ -n "${RESUME:-}" ]; then
  resume_from=${good:-$SAVE/checkpoint_last.pt}
  if [ -f "$resume_from" ]; then
    # a resume continues the same training: a setting changed since (a new default, another
    # environment) would silently mix two recipes in one run; only the budget may grow
    # shellcheck disable=SC2086
    python "$REPO/scripts/same_training.py" --allow max_update --allow stop_time_hours \
      --checkpoint "$resume_from" -- "${common[@]}" "${system[@]}" ${EXTRA_ARGS:-} >&2 \
      || { echo "train.sh: RESUME=1: $SAVE was trained with other settings (listed above); resume it with its own settings or train in another SAVE_DIR" >&2; exit 2; }
  fi
fi
# shellcheck disable=SC2086
fairseq-train "${common[@]}" "${system[@]}" "${restore[@]}" ${EXTRA_ARGS:-} 2>&1 | tee -a "$SAVE/train.log" \
  | python -m fairseq_vmf.cli.progress --max-update "${MAX_UPDATE:-3000}"
