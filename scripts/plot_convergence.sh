#!/usr/bin/env bash
# Validation BLEU of the en-fr main job and its softmax twins against updates and against CPU
# time at the per-update costs measured side by side (issue 13, item 5), from the committed
# training logs of every recorded seed. Writes results/quality/convergence_cpu_en-fr.{json,md,png}.
#   bash scripts/plot_convergence.sh
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
Q=results/quality/en-fr
COSTS=results/seed_table/per_update_cost.json  # seed_table.sh COST_UPDATES=80: one side-by-side run
cost() { python -c "import json, sys; print(json.load(open(sys.argv[1]))['en-fr'][sys.argv[2]]['s_per_update'])" \
  "$COSTS" "$1"; }
logs=(); costs=()  # argparse wants the positional logs together, before the options
add() {  # NAME LOG COST
  if [ -f "$2" ]; then logs+=("$1=$2"); costs+=(--cost "$1=$3"); fi
}
recipe=$(cost vmf_recipe); word=$(cost ce_word_word); bpe=$(cost ce_bpe_bpe)
for seed in 1 2 3; do
  sub=""; [ "$seed" = 1 ] || sub="/seed$seed"  # seed 1 predates per-seed folders
  add "main, seed $seed" "$Q/main$sub/train.log.gz" "$recipe"
done
for seed in 1 2 3; do
  sub=""; [ "$seed" = 1 ] || sub="/seed$seed"
  add "softmax word->word, seed $seed" "$Q/softmax_word_word$sub/train.log.gz" "$word"
done
add "softmax BPE->BPE, seed 1" "$Q/softmax_bpe_bpe/train.log.gz" "$bpe"
python scripts/plot_time_to_quality.py --out results/quality/convergence_cpu_en-fr "${logs[@]}" "${costs[@]}" \
  --reference "softmax word->word, seed 1" --below 1 --below 2
