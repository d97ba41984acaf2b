#!/usr/bin/env bash
# Per-update cost of each system, measured side by side in one run (same data, same
# machine state): softmax and vmf on the tiny and small bodies, 80 updates each without
# validation; prints updates/s (fairseq's ups over the last 20 logged updates) and the
# ratio to softmax of the same body. Time-to-quality uses these to turn updates into CPU time.
# Systems: softmax; vmf_paper (the paper's loss, tied frozen inputs); vmf_recipe (scripts/train.sh's
# default: + the vMF renormalised over the batch's target words, weight 10, learned inputs);
# vmf_table_all (vmf_recipe renormalised over the whole table).
#   usage: scripts/per_update_cost.sh SRC TGT DATA [OUT.md]
#   BODIES   bodies to measure (default "tiny small")
#   LOG_DIR  keep each training's log there (default: a temporary folder, removed)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: per_update_cost.sh SRC TGT DATA [OUT.md]}
TGT=${2:?usage: per_update_cost.sh SRC TGT DATA [OUT.md]}
DATA=${3:?usage: per_update_cost.sh SRC TGT DATA [OUT.md]}
OUT=${4:-/dev/stdout}
TABLE=${TABLE:-$DATA/embeddings/fasttext.$TGT.npz}
if [ -n "${LOG_DIR:-}" ]; then
  mkdir -p "$LOG_DIR"; work=$LOG_DIR
else
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fi
declare -A bodies=(
  [tiny]="--encoder-layers 4 --decoder-layers 4 --encoder-embed-dim 128 --decoder-embed-dim 128 --encoder-ffn-embed-dim 256 --decoder-ffn-embed-dim 256 --encoder-attention-heads 4 --decoder-attention-heads 4"
  [small]="--encoder-layers 3 --decoder-layers 3 --encoder-embed-dim 256 --decoder-embed-dim 256 --encoder-ffn-embed-dim 1024 --decoder-ffn-embed-dim 1024 --encoder-attention-heads 4 --decoder-attention-heads 4"
)
common=("$DATA/bin" -s "$SRC" -t "$TGT" --user-dir "$REPO/fairseq_vmf" --optimizer adam --lr 1e-3
        --lr-scheduler inverse_sqrt --warmup-updates 1000 --max-tokens 4096 --max-update 80
        --disable-validation --no-save --log-format simple --log-interval 20 --num-workers 0 --dropout 0.3)
{
  echo "| body | system | updates/s | vs softmax |"
  echo "|---|---|---|---|"
  for body in ${BODIES:-tiny small}; do
    softmax_ups=""
    for system in softmax vmf_paper vmf_recipe vmf_table_all; do
      continuous=(--task translation_vmf --target-embeddings "$TABLE" --arch continuous_transformer --criterion vmf)
      case "$system" in
        softmax) args=(--task translation --arch transformer --share-decoder-input-output-embed
                       --criterion label_smoothed_cross_entropy --label-smoothing 0.1) ;;
        vmf_paper) args=("${continuous[@]}" --tie-target-embeddings) ;;
        vmf_recipe) args=("${continuous[@]}" --vmf-table-nll-weight 10) ;;
        vmf_table_all) args=("${continuous[@]}" --vmf-table-nll-weight 10 --vmf-table-candidates all) ;;
      esac
      # shellcheck disable=SC2086
      fairseq-train "${common[@]}" ${bodies[$body]} "${args[@]}" > "$work/$body.$system.log" 2>&1
      ups=$(python "$REPO/scripts/training_rate.py" "$work/$body.$system.log")
      [ "$system" = softmax ] && softmax_ups=$ups
      echo "| $body | $system | $ups | $(awk "BEGIN { printf \"%.2fx\", $ups / $softmax_ups }") |"
    done
  done
} > "$OUT"
