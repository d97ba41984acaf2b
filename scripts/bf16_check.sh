#!/usr/bin/env bash
# Long mixed-precision check (README, "Reliability"): the main job's continuous model
# (configs/train/vmf_transformer_tiny.yaml) trained UPDATES updates four times on the same data,
# float32 with seeds 1 and 2 and bfloat16 with seeds 1 and 2. scripts/bf16_report.py then checks
# that every logged loss, kappa and gradient norm is finite and compares valid BLEU (greedy,
# sacreBLEU on raw references, each run's last checkpoint decoded by scripts/translate.sh).
# fairseq-train --bf16 cannot run it: fairseq 0.12 turns --bf16 into --tpu (torch_xla) even with
# a GPU. fairseq-hydra-train with common.bf16=true trains in bfloat16 on the GPU (or the CPU).
#   usage: scripts/bf16_check.sh SRC TGT DATA OUT_DIR
#   UPDATES (default 1000)
#   PARALLEL=1   train the four runs at once (one GPU has room for them; timing is not measured)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: bf16_check.sh SRC TGT DATA OUT_DIR}
TGT=${2:?usage: bf16_check.sh SRC TGT DATA OUT_DIR}
DATA=$(cd "${3:?usage: bf16_check.sh SRC TGT DATA OUT_DIR}" && pwd)
OUT=${4:?usage: bf16_check.sh SRC TGT DATA OUT_DIR}
UPDATES=${UPDATES:-1000}
TABLE=${TABLE:-$DATA/embeddings/fasttext_mix0.5.$TGT.npz}
[ -f "$TABLE" ] || { echo "bf16_check.sh: TABLE=$TABLE: no such table (scripts/prepare.sh makes it)" >&2; exit 2; }
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT")" ]; then
  echo "bf16_check.sh: $OUT is not empty; pick a new OUT_DIR (nothing there is overwritten)" >&2
  exit 2
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

train() {  # train RUN SEED [more hydra overrides]
  local run=$1 seed=$2
  shift 2
  fairseq-hydra-train --config-dir "$REPO/configs/train" --config-name vmf_transformer_tiny \
    common.user_dir="$REPO/fairseq_vmf" task.data="$DATA/bin" task.target_embeddings="$TABLE" \
    task.source_lang="$SRC" task.target_lang="$TGT" checkpoint.save_dir="$OUT/$run" \
    hydra.run.dir="$OUT/$run/hydra" optimization.max_update="$UPDATES" common.seed="$seed" \
    common.log_interval=1 "$@" > "$OUT/$run.train.log" 2>&1
}
runs=(fp32_seed1 fp32_seed2 bf16_seed1 bf16_seed2)
settings=("1" "2" "1 common.bf16=true" "2 common.bf16=true")
pids=()
for i in "${!runs[@]}"; do
  # shellcheck disable=SC2086
  if [ -n "${PARALLEL:-}" ]; then train "${runs[$i]}" ${settings[$i]} & pids+=($!)
  else train "${runs[$i]}" ${settings[$i]} || echo "bf16_check.sh: ${runs[$i]} failed (see $OUT/${runs[$i]}.train.log)" >&2
  fi
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || echo "bf16_check.sh: ${runs[$i]} failed (see $OUT/${runs[$i]}.train.log)" >&2
done
for run in "${runs[@]}"; do
  if [ -f "$OUT/$run/checkpoint_last.pt" ]; then
    CKPT=$OUT/$run/checkpoint_last.pt SPLIT=valid BEAM=1 bash "$REPO/scripts/translate.sh" \
      "$SRC" "$TGT" "$OUT/$run" "$DATA" > /dev/null 2> "$OUT/$run.translate.err" \
      || echo "bf16_check.sh: decoding $run failed (see $OUT/$run.translate.err)" >&2
  fi
done
python "$REPO/scripts/bf16_report.py" --out "$OUT" --updates "$UPDATES" "${runs[@]}"
