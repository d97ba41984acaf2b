#!/usr/bin/env bash
# The seed paper's results table (Kumar & Tsvetkov 2019, table of BLEU by embeddings, tying,
# segmentation and loss) on Multi30k, one row at a time, every row through scripts/train.sh
# (one body; one update budget per family) and scripts/translate.sh (test greedy and beam 5,
# valid beam 5), each result recorded in results/seed_table/summary.json with its hypotheses.
#   usage: scripts/seed_table.sh SRC TGT [ROWS]        (default: every row below, in order)
#   SOFTMAX_UPDATES   budget of the softmax rows (default 3000: results/quality/curves_en-fr.md)
#   CONTINUOUS_UPDATES  budget of the continuous rows (default 5000: the main job's before
#                     commit fccc8c0)
#                     Either may be rising stages, e.g. "8000 12000 16000": a row trains to the
#                     first, and on to the next while its valid BLEU still rose by RISING or more
#                     (default 0.5) in the last fifth of its updates (scripts/train_in_stages.sh)
#   BUDGETS_FROM=PAIR each row trains to the budget its PAIR row reached (e.g. en-fr: the issue's
#                     rule for the other directions), read from PAIR's recorded training command
#   MAIN_UPDATES      budget of the vmf_main row (default 4000: scripts/main.sh's), or stages as
#                     above (the table at convergence); its table is the ce_word_word row's
#                     model's, as that row's folder holds it, and that training counts in its time
#   BODY, SEED, RAW_DIR ... as train.sh / prepare.sh
#   REUSE="ROW=DIR ..."  take a finished run in DIR as ROW's training instead of training it
#                     again (e.g. REUSE="vmf_recipe=checkpoints/en-fr.vmf" after the main job): it
#                     is used only if scripts/same_training.py finds its stored configuration
#                     identical to the row's train.sh command; ROW's folder then links to DIR's
#                     checkpoints and log, and the row's decodes are written in ROW's folder
#   COST_UPDATES=N    measure instead of train: each row's own fairseq-train command runs N (>= 20) updates
#                     (no validation, nothing saved), one row after the other, and its seconds per
#                     update (fairseq's ups over the last 20) go to RESULTS/per_update_cost.json with
#                     the log; the report turns each row's updates into CPU time with them
#                     (vmf_main needs a finished ce_word_word row: its table, not its training)
# Resumable: a recorded row is skipped; an interrupted one resumes from its last checkpoint
# (train.sh RESUME=1). To train a recorded row on to a larger budget, rename its record first
# (scripts/quality_results.py --results results/seed_table rename --pair P --system ROW --to ROW_N):
# the row then resumes from its checkpoints, and the renamed record stays as its earlier budget's.
# Prints "row i/n" and an ETA from the rows finished in this run.
# Every direction takes the en-fr recipes unchanged (dropout included: train.sh's 0.1 for the
# CE rows, 0.3 for the others); nothing is tuned per direction.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: seed_table.sh SRC TGT [ROWS]}
TGT=${2:?usage: seed_table.sh SRC TGT [ROWS]}
RESULTS=${RESULTS:-results/seed_table}

# row -> "system data-variant table tied loss-flags" (table: fasttext, word2vec, fasttext_mix0.5
# (the continuous recipe's, made by prepare.sh), softmax_twin (the output embeddings of the
# ce_word_word row's model, as the main job takes its twin's) or -)
# max-margin takes the released code's negative (projection): the hardest negative collapses
# (valid BLEU 0.00 over 4,200 updates: results/seed_table/en-fr/failed/)
declare -A ROW=(
  [ce_word_word]="softmax word_word - - -"
  [ce_word_bpe]="softmax word_bpe - - -"
  [ce_bpe_bpe]="softmax bpe_bpe - - -"
  [w2v_l2]="vmf word_word word2vec 0 LOSS=l2"
  [w2v_cosine]="vmf word_word word2vec 0 LOSS=cosine"
  [w2v_max_margin]="vmf word_word word2vec 0 LOSS=max_margin EXTRA_ARGS=--margin-negative=projection"
  [ft_max_margin]="vmf word_word fasttext 0 LOSS=max_margin EXTRA_ARGS=--margin-negative=projection"
  [ft_max_margin_tied]="vmf word_word fasttext 1 LOSS=max_margin EXTRA_ARGS=--margin-negative=projection"
  [w2v_vmf_reg1]="vmf word_word word2vec 0 EXTRA_ARGS=--vmf-lambda2=1"
  [w2v_vmf_reg12]="vmf word_word word2vec 0 -"
  [w2v_vmf_reg12_tied]="vmf word_word word2vec 1 -"
  [ft_vmf_reg12]="vmf word_word fasttext 0 -"
  [ft_vmf_reg12_tied]="vmf word_word fasttext 1 -"
  [adaptive_softmax]="adaptive word_word - - -"
  [vmf_recipe]="vmf word_word fasttext_mix0.5 0 TABLE_NLL=10"
  [vmf_main]="vmf word_word softmax_twin 0 main"
)
ORDER="ce_word_word ce_word_bpe ce_bpe_bpe w2v_l2 w2v_cosine w2v_max_margin ft_max_margin ft_max_margin_tied
w2v_vmf_reg1 w2v_vmf_reg12 w2v_vmf_reg12_tied ft_vmf_reg12 ft_vmf_reg12_tied adaptive_softmax vmf_recipe vmf_main"
ROWS=${3:-$ORDER}
for row in $ROWS; do
  [ -n "${ROW[$row]+set}" ] || { echo "seed_table.sh: unknown row '$row' (rows: $(echo $ORDER))" >&2; exit 2; }
done
# the rate is read from fairseq's train_inner lines (scripts/training_rate.py), logged every 20 updates
if [ -n "${COST_UPDATES:-}" ] && ! { [[ "$COST_UPDATES" =~ ^[0-9]+$ ]] && [ "$COST_UPDATES" -ge 20 ]; }; then
  echo "seed_table.sh: COST_UPDATES=$COST_UPDATES: give a whole number of at least 20 updates" >&2; exit 2
fi
for family in SOFTMAX_UPDATES CONTINUOUS_UPDATES MAIN_UPDATES; do
  if [ -n "${!family:-}" ] && ! STAGES=${!family} bash "$REPO/scripts/train_in_stages.sh" --check 2> /dev/null; then
    echo "seed_table.sh: $family='${!family}': give a number of updates, or rising numbers (stages) separated by spaces" >&2
    exit 2
  fi
done
STAGES=1 bash "$REPO/scripts/train_in_stages.sh" --check || exit 2  # RISING
declare -A REUSED=()
for pair in ${REUSE:-}; do
  row=${pair%%=*}; dir=${pair#*=}
  [ -n "${ROW[$row]+set}" ] && [ "$row" != "$pair" ] \
    || { echo "seed_table.sh: REUSE: '$pair' is not ROW=DIR with a known row" >&2; exit 2; }
  [ -f "$dir/checkpoint_last.pt" ] && [ -f "$dir/checkpoint_best.pt" ] \
    || { echo "seed_table.sh: REUSE $row=$dir: no checkpoint_last.pt and checkpoint_best.pt there" >&2; exit 2; }
  REUSED[$row]=$dir
done

recorded() {  # whether the row's test beam-5 result is in the summary
  python - "$RESULTS/summary.json" "$SRC-$TGT" "$1" <<'EOF'
import json, sys
from pathlib import Path
path = Path(sys.argv[1])
rows = json.loads(path.read_text())["rows"] if path.is_file() else []
sys.exit(0 if any(r["pair"] == sys.argv[2] and r["system"] == sys.argv[3] and r["split"] == "test"
                  and r["beam"] == 5 for r in rows) else 1)
EOF
}

n=$(echo $ROWS | wc -w); i=0; started=$(date +%s); finished=0
for row in $ROWS; do
  i=$((i + 1))
  read -r system variant table tied flags <<< "${ROW[$row]}"
  if [ -z "${COST_UPDATES:-}" ] && recorded "$row"; then echo "seed_table.sh: row $i/$n $row: recorded, skipped"; continue; fi
  if [ "$finished" -gt 0 ]; then
    per_row=$(( ($(date +%s) - started) / finished ))
    echo "seed_table.sh: row $i/$n $row (about $(( per_row * (n - i + 1) / 60 )) min left for this run)"
  else
    echo "seed_table.sh: row $i/$n $row"
  fi
  if [ -n "${BUDGETS_FROM:-}" ]; then
    budget_of_pair=$(python "$REPO/scripts/seed_table_report.py" --results "$RESULTS" budget-of \
      --pair "$BUDGETS_FROM" --row "$row") \
      || { echo "seed_table.sh: BUDGETS_FROM=$BUDGETS_FROM: no budget for $row (above)" >&2; exit 2; }
  fi
  data="data/multi30k-$variant.$SRC-$TGT"
  DATA_VARIANT=$variant bash "$REPO/scripts/prepare.sh" "$SRC" "$TGT" "$data" > /dev/null
  # one body for every row: post-norm layers, as the en-fr rows were trained (train.sh's vmf
  # default is pre-norm since)
  stages=${SOFTMAX_UPDATES:-3000}
  env_row=(RESUME=1 PRE_NORM=0)
  if [ "$system" = vmf ]; then
    # the paper's losses alone: the recipe's renormalised term is off unless the row sets it
    stages=${CONTINUOUS_UPDATES:-5000}
    env_row=(RESUME=1 PRE_NORM=0 "TIED=$tied" "TABLE=$data/embeddings/$table.$TGT.npz" TABLE_NLL=0)
    if [ "$table" = word2vec ] && [ ! -e "$data/embeddings/word2vec.$TGT.npz" ]; then
      fairseq-vmf-embed --config "$REPO/configs/embeddings/word2vec.yaml" --data "$data" > /dev/null
    fi
    if [ "$flags" = main ]; then
      # the main job's continuous model: train.sh's own vmf defaults (pre-norm layers, the
      # renormalised term) and its update budget, on the table of the ce_word_word row's model
      # (trained first if it is not there; a reused ce_word_word row's run folder is used as is)
      twin="checkpoints/seed.$SRC-$TGT.ce_word_word"
      # a twin it trains itself goes to the first softmax stage (the main job's twin budget)
      twin_budget=${SOFTMAX_UPDATES:-3000}; twin_budget=${twin_budget%% *}
      if [ -L "$twin/checkpoint_last.pt" ]; then twin=$(dirname "$(realpath "$twin/checkpoint_last.pt")"); fi
      twin_table="$data/embeddings/$(basename "$twin").$TGT.npz"
      # a cost run trains nothing: it takes the table of a finished ce_word_word run (written
      # from its checkpoints in seconds if it is not there yet), else it stops
      if [ -n "${COST_UPDATES:-}" ] && [ ! -f "$twin_table" ] && { [ ! -d "$twin" ] \
          || [ "$(python -m fairseq_vmf.cli.resume_point "$twin" --max-update "$twin_budget")" != finished ]; }; then
        echo "seed_table.sh: $row: no twin table $twin_table to measure with, and no finished ce_word_word run in $twin to write it from; run the ce_word_word row first" >&2; exit 2
      fi
      twin_table=$(RESUME=1 TWIN_MAX_UPDATE="$twin_budget" \
        bash "$REPO/scripts/softmax_twin_table.sh" "$SRC" "$TGT" "$data" "$twin" | tail -1)
      stages=${MAIN_UPDATES:-4000}
      env_row=(RESUME=1 "TABLE=$twin_table")
    elif [ "$flags" != - ]; then read -ra row_flags <<< "$flags"; env_row+=("${row_flags[@]}"); fi
  fi
  if [ -n "${BUDGETS_FROM:-}" ]; then stages=$budget_of_pair; fi
  read -ra stages <<< "$stages"
  save="checkpoints/seed.$SRC-$TGT.$row"
  # a cost run measures, and REUSE compares, the command of the first stage
  train_command="train.sh $system $data (${env_row[*]} MAX_UPDATE=${stages[0]})"
  env_row+=("MAX_UPDATE=${stages[0]}")
  if [ -n "${COST_UPDATES:-}" ]; then
    mapfile -t argv < <(env "${env_row[@]}" PRINT_ARGS=1 bash "$REPO/scripts/train.sh" "$SRC" "$TGT" "$system" "$data" "$save")
    scratch=$(mktemp -d)
    mkdir -p "$RESULTS/per_update_cost"
    log="$RESULTS/per_update_cost/$SRC-$TGT.$row.log"
    # later flags win in fairseq's parser: the row's command, shortened and saving nothing
    fairseq-train "${argv[@]}" --max-update "$COST_UPDATES" --disable-validation --no-save \
      --save-dir "$scratch" --log-interval 20 --log-format simple > "$log" 2>&1 \
      || { echo "seed_table.sh: the cost run of $row failed (log: $log)" >&2; rm -rf "$scratch"; exit 1; }
    rm -rf "$scratch"
    ups=$(python "$REPO/scripts/training_rate.py" "$log")
    python "$REPO/scripts/seed_table_report.py" --results "$RESULTS" record-cost --pair "$SRC-$TGT" \
      --row "$row" --updates-per-s "$ups" --updates-run "$COST_UPDATES" --log "$log.gz"
    gzip -f "$log"
    echo "seed_table.sh: $row: $ups updates/s"
    continue
  fi
  if [ -n "${REUSED[$row]+set}" ]; then
    reuse=${REUSED[$row]}
    if [ "${#stages[@]}" -gt 1 ]; then
      echo "seed_table.sh: REUSE $row: a reused run is taken as it is; give its family one budget, not stages" >&2
      exit 2
    fi
    if [ -e "$save/checkpoint_last.pt" ] && [ ! -L "$save/checkpoint_last.pt" ]; then
      echo "seed_table.sh: REUSE $row=$reuse: $save already holds a training of its own; not replaced" >&2
      exit 2
    fi
    mapfile -t argv < <(env "${env_row[@]}" PRINT_ARGS=1 bash "$REPO/scripts/train.sh" "$SRC" "$TGT" "$system" "$data" "$save")
    python "$REPO/scripts/same_training.py" --checkpoint "$reuse/checkpoint_last.pt" -- "${argv[@]}" \
      || { echo "seed_table.sh: REUSE $row=$reuse: not this row's training (differences above)" >&2; exit 2; }
    mkdir -p "$save"
    for f in checkpoint_best.pt checkpoint_last.pt train.log; do ln -sfn "$(realpath "$reuse/$f")" "$save/$f"; done
    train_command="$train_command, the same training as $reuse (scripts/same_training.py), reused"
  else
    unset 'env_row[-1]'  # MAX_UPDATE: train_in_stages.sh sets each stage's
    env "${env_row[@]}" STAGES="${stages[*]}" bash "$REPO/scripts/train_in_stages.sh" "$SRC" "$TGT" "$system" "$data" "$save"
    train_command="train.sh $system $data (${env_row[*]} $(cat "$save/stages.txt"))"
  fi
  for run in "test 1" "test 5" "valid 5"; do
    read -r split beam <<< "$run"
    SPLIT=$split BEAM=$beam bash "$REPO/scripts/translate.sh" "$SRC" "$TGT" "$save" "$data" > /dev/null
    python "$REPO/scripts/quality_results.py" --results "$RESULTS" add --pair "$SRC-$TGT" --system "$row" \
      --split "$split" --beam "$beam" --save-dir "$save" --output "$save/$split.beam$beam" \
      --ref "$data/raw/$split.$TGT" \
      --train-command "scripts/seed_table.sh $SRC $TGT $row: $train_command" > /dev/null
  done
  if [ "$flags" = main ]; then  # the twin's curve beside the row: its time counts in the row's
    gzip -c "$twin/train.log" > "$RESULTS/$SRC-$TGT/$row/softmax_twin.train.log.gz"
  fi
  finished=$((finished + 1))
done
if [ -f "$RESULTS/summary.json" ]; then python "$REPO/scripts/seed_table_report.py" --results "$RESULTS"; fi
