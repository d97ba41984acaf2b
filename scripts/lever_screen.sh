#!/usr/bin/env bash
# Screen quality levers of the continuous model: one training per lever at one update budget
# and one seed, each a single change against the recipe's defaults (scripts/train.sh vmf).
# Rows are compared on valid BLEU at equal updates (results/quality/levers.md).
#   usage: scripts/lever_screen.sh SRC TGT DATA [LEVER ...]      (default: every lever below)
#   SCREEN_UPDATES  the budget (default 968 = 8 epochs of en-fr word->word at 4096 tokens)
#   SCREEN_DIR      where each lever's run goes (default checkpoints/screen.SRC-TGT/LEVER)
# A lever whose run reached the budget is skipped; an interrupted one resumes.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: lever_screen.sh SRC TGT DATA [LEVER ...]}
TGT=${2:?usage: lever_screen.sh SRC TGT DATA [LEVER ...]}
DATA=${3:?usage: lever_screen.sh SRC TGT DATA [LEVER ...]}
shift 3
UPDATES=${SCREEN_UPDATES:-968}
DIR=${SCREEN_DIR:-checkpoints/screen.$SRC-$TGT}

# lever name -> the environment of scripts/train.sh that makes it (one change each;
# several variables are separated by ';'). Levers without TABLE_NLL/TIED change the current
# defaults; rows 1-11 of results/quality/levers.md were run with TABLE_NLL=0 TIED=1 exported.
# The table_nll levers set what they measured (rows 12-16), so they rerun the same anywhere.
declare -A LEVERS=(
  [default]=""
  [paper_loss]="TABLE_NLL=0"
  [output_layer_norm]="EXTRA_ARGS=--output-layer-norm"
  [reg1]="EXTRA_ARGS=--vmf-lambda2=1"
  [plain_nll]="EXTRA_ARGS=--vmf-lambda1=0 --vmf-lambda2=1"
  [released_loss]="EXTRA_ARGS=--vmf-loss-form=released"
  [lambda2_0.3]="EXTRA_ARGS=--vmf-lambda2=0.3"
  [untied]="TIED=0"
  [tied]="TIED=1"
  [cosine_loss]="LOSS=cosine"
  [max_margin]="LOSS=max_margin"
  [l2]="LOSS=l2"
  [coswarm1500]="COSINE_WARMUP=1500"
  [no_coswarm]="COSINE_WARMUP=0"
  [lr_2.5e-3]="LR=2.5e-3"
  [lr_1e-2]="LR=1e-2"
  [table_nll]="TIED=1;TABLE_NLL=1"
  [table_nll_all]="TIED=1;TABLE_NLL=1;EXTRA_ARGS=--vmf-table-candidates=all"
  [table_nll_w3]="TIED=1;TABLE_NLL=3"
  [table_nll_w10]="TIED=1;TABLE_NLL=10"
  [table_nll_untied]="TIED=0;TABLE_NLL=1"
  [table_nll_w30]="TABLE_NLL=30"
  [table_ls0.1]="EXTRA_ARGS=--vmf-table-label-smoothing=0.1"
  [table_all_w10]="EXTRA_ARGS=--vmf-table-candidates=all"
  [random_table]="TABLE=$DATA/embeddings/random.$TGT.npz"
  [softmax_table]="TABLE=$DATA/embeddings/softmax.$TGT.npz"
  [word2vec_table]="TABLE=$DATA/embeddings/word2vec.$TGT.npz"
  [mix_0.5]="TABLE=$DATA/embeddings/fasttext_mix0.5.$TGT.npz"
)
if [ $# -eq 0 ]; then set -- "${!LEVERS[@]}"; fi
for lever in "$@"; do
  [ -n "${LEVERS[$lever]+set}" ] || { echo "lever_screen.sh: unknown lever '$lever' (known: ${!LEVERS[*]})" >&2; exit 2; }
done

i=0
for lever in "$@"; do
  i=$((i + 1))
  save=$DIR/$lever
  if [ -e "$save/train.log" ] && grep -q "done training" "$save/train.log"; then
    echo "lever_screen.sh: [$i/$#] $lever already done ($save)"; continue
  fi
  resume=""
  if [ -e "$save/checkpoint_last.pt" ]; then resume=1; fi
  echo "lever_screen.sh: [$i/$#] $lever: ${LEVERS[$lever]:-(recipe defaults)}"
  settings=()
  if [ -n "${LEVERS[$lever]}" ]; then IFS=';' read -ra settings <<< "${LEVERS[$lever]}"; fi
  env "${settings[@]}" RESUME=$resume MAX_UPDATE="$UPDATES" \
    bash "$REPO/scripts/train.sh" "$SRC" "$TGT" vmf "$DATA" "$save"
done
