#!/usr/bin/env bash
# Validation BLEU of the en-fr main job and its softmax twins against updates and against CPU
# time at the per-update costs measured side by side (issue 13, item 5), from the committed
# training logs of every recorded seed. Writes results/quality/convergence_cpu_en-fr.{json,md,png}.
#   bash scripts/plot_convergence.sh
# The main job trains the tuned softmax twin first and then the continuous model on the twin's
# output embeddings: its curve starts where its twin's ended (--after), and the twins are the
# softmax word->word curves (the recipe of softmax_word_word_dropout_0.1).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
Q=results/quality/en-fr
COSTS=results/seed_table/per_update_cost.json  # seed_table.sh COST_UPDATES=80: one side-by-side run
cost() { python -c "import json, sys; print(json.load(open(sys.argv[1]))['en-fr'][sys.argv[2]]['s_per_update'])" \
  "$COSTS" "$1"; }
# the main job's continuous model (the twin's 128-d table) was measured in another side-by-side
# run, with softmax: its cost here is softmax's above x that run's ratio (fairseq's ups of the
# last 20 updates of each log: scripts/training_rate.py)
TWIN_RUN=$Q/../per_update_cost/twin_table
ups() { python scripts/training_rate.py "$1"; }
word=$(cost ce_word_word); bpe=$(cost ce_bpe_bpe); mixed=$(cost vmf_recipe)
main=$(awk "BEGIN { print $word * $(ups $TWIN_RUN/tiny.softmax.log.gz) / $(ups $TWIN_RUN/tiny.vmf_recipe.log.gz) }")
logs=(); options=()  # argparse wants the positional logs together, before the options
add() {  # NAME LOG COST
  if [ -f "$2" ]; then logs+=("$1=$2"); options+=(--cost "$1=$3"); fi
}
for seed in 1 2 3; do
  sub=""; [ "$seed" = 1 ] || sub="/seed$seed"  # seed 1 predates per-seed folders
  twin="softmax word->word (the main job's twin), seed $seed"
  add "$twin" "$Q/main$sub/softmax_twin.train.log.gz" "$word"
  if [ -f "$Q/main$sub/softmax_twin.train.log.gz" ]; then
    add "main, seed $seed" "$Q/main$sub/train.log.gz" "$main"
    options+=(--after "main, seed $seed=$twin")
  fi
done
add "main job to commit 1de48c9 (vmf_main_fasttext_mix), seed 1" "$Q/vmf_main_fasttext_mix/train.log.gz" "$mixed"
add "softmax BPE->BPE, seed 1" "$Q/softmax_bpe_bpe/train.log.gz" "$bpe"
python scripts/plot_time_to_quality.py --out results/quality/convergence_cpu_en-fr "${logs[@]}" "${options[@]}" \
  --reference "softmax word->word (the main job's twin), seed 1" --below 1 --below 2
