#!/usr/bin/env bash
# Train one run to rising update budgets (stages) until its validation BLEU flattens: train.sh to
# the first stage, then on to the next while fairseq's valid BLEU (from the run's train.log) still
# rose by RISING or more in the last fifth of its updates (seed_table_report.py late-gain); the
# last stage is the cap. Resuming is the same training as one longer run: the inverse_sqrt
# schedule does not depend on --max-update, and train.sh resumes only the same training.
#   usage: STAGES="8000 12000 16000" [RISING=0.5] scripts/train_in_stages.sh SRC TGT SYSTEM DATA SAVE
#   (train.sh's other settings come from the environment; RESUME=1 is set here)
#   STAGES=... [RISING=...] train_in_stages.sh --check   checks the settings only
# Writes SAVE/stages.txt: the budget it stopped at (MAX_UPDATE=N) and why, one line.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: STAGES=\"N [N ...]\" train_in_stages.sh SRC TGT SYSTEM DATA SAVE"
[ "$#" -eq 5 ] || [ "${1:-}" = --check ] || { echo "$usage" >&2; exit 2; }
if ! python - "${STAGES:-}" <<'PY'
import sys
stages = sys.argv[1].split()
sys.exit(0 if stages and all(s.isdigit() and int(s) > 0 for s in stages)
         and all(int(a) < int(b) for a, b in zip(stages, stages[1:])) else 1)
PY
then
  echo "train_in_stages.sh: STAGES='${STAGES:-}': give a number of updates, or rising numbers separated by spaces" >&2
  exit 2
fi
RISING=${RISING:-0.5}
if ! [[ "$RISING" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
  echo "train_in_stages.sh: RISING=$RISING: give a BLEU difference, e.g. 0.5" >&2; exit 2
fi
[ "$1" != --check ] || exit 0
SAVE=$5
read -ra stages <<< "$STAGES"
for stage in "${stages[@]}"; do
  RESUME=1 MAX_UPDATE=$stage bash "$REPO/scripts/train.sh" "$@"
  note="MAX_UPDATE=$stage"
  [ "${#stages[@]}" -gt 1 ] || break
  gain=$(python "$REPO/scripts/seed_table_report.py" late-gain "$SAVE/train.log")
  note+=", stages ${stages[*]}: valid BLEU rose $gain in the last fifth of $stage updates"
  # (exit status 0 when the gain is under RISING)
  if [ "$gain" = none ] || python -c "import sys; sys.exit(float(sys.argv[1]) >= float(sys.argv[2]))" \
      "$gain" "$RISING"; then
    echo "train_in_stages.sh: valid BLEU rose $gain (< $RISING, or no valid lines) in the last fifth of" \
      "$stage updates: stopped there"
    break
  fi
  echo "train_in_stages.sh: valid BLEU rose $gain (>= $RISING) in the last fifth of $stage updates"
done
echo "$note" > "$SAVE/stages.txt"
