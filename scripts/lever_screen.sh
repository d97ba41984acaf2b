#!/usr/bin/env bash
# Screen quality levers: one training per lever at one update budget and one seed, each a
# single change against the system's recipe defaults (scripts/train.sh). Rows are compared on
# valid BLEU at equal updates (results/quality/levers.md; scripts/lever_table.py tabulates them).
#   usage: scripts/lever_screen.sh SRC TGT DATA [LEVER ...]      (default: every lever of SYSTEM)
#   SYSTEM          vmf (default: the continuous model's levers) or softmax (its twin's tuning
#                   runs: learning rate, warm-up, dropouts, label smoothing, tying, batch, ...)
#   SCREEN_UPDATES  the budget (default 968 = 8 epochs of en-fr word->word at 4096 tokens)
#   SCREEN_DIR      where each lever's run goes (default checkpoints/screen.SRC-TGT/LEVER for
#                   vmf, checkpoints/screen.SRC-TGT.softmax/LEVER for softmax)
#   PRINT_ARGS=1    print each lever's fairseq-train arguments (train.sh PRINT_ARGS) and train nothing
# A lever whose run reached the budget is skipped; an interrupted one resumes.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: lever_screen.sh SRC TGT DATA [LEVER ...]}
TGT=${2:?usage: lever_screen.sh SRC TGT DATA [LEVER ...]}
DATA=${3:?usage: lever_screen.sh SRC TGT DATA [LEVER ...]}
shift 3
UPDATES=${SCREEN_UPDATES:-968}
SYSTEM=${SYSTEM:-vmf}
case "$SYSTEM" in
  vmf) DIR=${SCREEN_DIR:-checkpoints/screen.$SRC-$TGT} ;;
  softmax) DIR=${SCREEN_DIR:-checkpoints/screen.$SRC-$TGT.softmax} ;;
  *) echo "lever_screen.sh: SYSTEM=$SYSTEM: vmf or softmax" >&2; exit 2 ;;
esac

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
  # the softmax twin's leading tuning runs, tried on the continuous model too
  [dropout_0.1]="DROPOUT=0.1"
  [pre_norm]="EXTRA_ARGS=--encoder-normalize-before --decoder-normalize-before"
  [warmup_500]="WARMUP=500"
)
# The softmax twin's tuning runs (tiny body, lr 5e-3, warm-up 1000, dropout 0.3, label smoothing
# 0.1, tied embeddings, 4096 tokens): the same budget and seed. A lever may change the system
# (SYSTEM=plif / augmented: LMS-PLIF and Inan et al.'s augmented loss on the same body).
declare -A SOFTMAX_LEVERS=(
  [default]=""
  [lr_2.5e-3]="LR=2.5e-3"
  [lr_7.5e-3]="LR=7.5e-3"
  [lr_1e-2]="LR=1e-2"
  [warmup_500]="WARMUP=500"
  [warmup_2000]="WARMUP=2000"
  [dropout_0.1]="DROPOUT=0.1"
  [dropout_0.2]="DROPOUT=0.2"
  [dropout_0.4]="DROPOUT=0.4"
  [label_smoothing_0]="EXTRA_ARGS=--label-smoothing 0"
  [label_smoothing_0.2]="EXTRA_ARGS=--label-smoothing 0.2"
  [untied]="TIED=0"
  [attention_dropout_0.1]="EXTRA_ARGS=--attention-dropout 0.1"
  [activation_dropout_0.1]="EXTRA_ARGS=--activation-dropout 0.1"
  [weight_decay_1e-4]="EXTRA_ARGS=--weight-decay 0.0001"
  [clip_norm_1]="EXTRA_ARGS=--clip-norm 1.0"
  [adam_beta2_0.999]="EXTRA_ARGS=--adam-betas (0.9,0.999)"
  [pre_norm]="EXTRA_ARGS=--encoder-normalize-before --decoder-normalize-before"
  [max_tokens_2048]="MAX_TOKENS=2048"
  [max_tokens_8192]="MAX_TOKENS=8192"
  [plif]="SYSTEM=plif"
  [augmented]="SYSTEM=augmented"
  # second round: dropout 0.1 (the best single lever, now train.sh's softmax default) combined
  # with the next-best levers, and dropout on either side of it
  [dropout_0.05]="DROPOUT=0.05"
  [dropout_0.15]="DROPOUT=0.15"
  [dropout_0.1_pre_norm]="DROPOUT=0.1;EXTRA_ARGS=--encoder-normalize-before --decoder-normalize-before"
  [dropout_0.1_warmup_500]="DROPOUT=0.1;WARMUP=500"
  [dropout_0.1_untied]="DROPOUT=0.1;TIED=0"
  [dropout_0.1_clip_norm_1]="DROPOUT=0.1;EXTRA_ARGS=--clip-norm 1.0"
)
if [ "$SYSTEM" = softmax ]; then
  unset LEVERS; declare -A LEVERS
  for lever in "${!SOFTMAX_LEVERS[@]}"; do LEVERS[$lever]=${SOFTMAX_LEVERS[$lever]}; done
fi
if [ $# -eq 0 ]; then set -- "${!LEVERS[@]}"; fi
for lever in "$@"; do
  [ -n "${LEVERS[$lever]+set}" ] || { echo "lever_screen.sh: unknown lever '$lever' (known: ${!LEVERS[*]})" >&2; exit 2; }
done

i=0
for lever in "$@"; do
  i=$((i + 1))
  save=$DIR/$lever
  settings=()
  if [ -n "${LEVERS[$lever]}" ]; then IFS=';' read -ra settings <<< "${LEVERS[$lever]}"; fi
  system=$SYSTEM
  # the softmax tuning runs are screened against dropout 0.3, the twin's recipe when the screen
  # began (train.sh's softmax default is 0.1 since): the rows stay comparable with each other
  # and both keep post-norm layers, the screens' base (pre-norm is a lever here, train.sh's vmf default since)
  base=("PRE_NORM=0")
  if [ "$SYSTEM" = softmax ]; then base+=("DROPOUT=${DROPOUT:-0.3}"); fi
  for setting in "${settings[@]}"; do  # SYSTEM=... picks train.sh's system, not an env variable
    case "$setting" in SYSTEM=*) system=${setting#SYSTEM=} ;; esac
  done
  if [ -n "${PRINT_ARGS:-}" ]; then
    echo "# $lever"
    env "${base[@]}" "${settings[@]}" MAX_UPDATE="$UPDATES" PRINT_ARGS=1 bash "$REPO/scripts/train.sh" "$SRC" "$TGT" "$system" "$DATA" "$save"
    continue
  fi
  if [ -e "$save/train.log" ] && grep -q "done training" "$save/train.log"; then
    echo "lever_screen.sh: [$i/$#] $lever already done ($save)"; continue
  fi
  resume=""
  if [ -e "$save/checkpoint_last.pt" ]; then resume=1; fi
  echo "lever_screen.sh: [$i/$#] $lever: ${LEVERS[$lever]:-(recipe defaults)}"
  env "${base[@]}" "${settings[@]}" RESUME=$resume MAX_UPDATE="$UPDATES" \
    bash "$REPO/scripts/train.sh" "$SRC" "$TGT" "$system" "$DATA" "$save"
done
