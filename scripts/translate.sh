#!/usr/bin/env bash
# Translate test_2016_flickr with a trained system and score it with sacreBLEU on
# detokenized text; fails if any sentence is missing from the output.
#   usage: scripts/translate.sh SRC TGT SAVE_DIR [DATA]
#   BEAM (default 5)   SPLIT (default test)   TASK (default: from the checkpoint)
#   DEDUP=1     drop immediately repeated tokens before scoring (the paper's post-processing;
#               applied to the text, so every system gets it alike)
#   CKPT        the checkpoint (default SAVE_DIR/checkpoint_best.pt)
#   TAG         a name for this setting in the output file names
#   GEN_ARGS    more fairseq-generate flags (e.g. "--knn-backend faiss_flat")
#   REPLACE_UNK=1  replace each <unk> by the source word it attends to most (what fairseq's
#               --replace-unk is meant to do; scripts/replace_unk.py says why that flag cannot run)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: translate.sh SRC TGT SAVE_DIR [DATA]}
TGT=${2:?usage: translate.sh SRC TGT SAVE_DIR [DATA]}
SAVE=${3:?usage: translate.sh SRC TGT SAVE_DIR [DATA]}
DATA=${4:-data/multi30k.$SRC-$TGT}
SPLIT=${SPLIT:-test}
BEAM=${BEAM:-5}
CKPT=${CKPT:-$SAVE/checkpoint_best.pt}
[ -f "$CKPT" ] || { echo "translate.sh: no $CKPT (train first)" >&2; exit 2; }
PYTHON=${PYTHON:-python}
TASK=${TASK:-$("$PYTHON" -c "
import sys, torch, fairseq_vmf
state = torch.load(sys.argv[1], map_location='cpu')
print(state['cfg']['task']['_name'])" "$CKPT")} \
  || { echo "translate.sh: cannot read the task from $CKPT with $PYTHON (set TASK= or PYTHON=)" >&2; exit 2; }
OUT="$SAVE/$SPLIT.beam$BEAM${DEDUP:+.dedup}${TAG:+.$TAG}"

# --required-batch-size-multiple 1: with the default of 8 fairseq-generate can drop
# sentences without a warning (see shared notes); the count check below catches any loss.
generate=(fairseq-generate "$DATA/bin" --source-lang "$SRC" --target-lang "$TGT"
  --user-dir "$REPO/fairseq_vmf" --task "$TASK" --path "$CKPT" --gen-subset "$SPLIT"
  --beam "$BEAM" --max-len-a 1.2 --max-len-b 10 --batch-size 64
  --required-batch-size-multiple 1 --num-workers 0)
# shellcheck disable=SC2206
generate+=(${GEN_ARGS:-})
[ -n "${REPLACE_UNK:-}" ] && generate+=(--print-alignment hard)
# the exact command beside its output, and every decode of the test set logged in SAVE_DIR
printf '%q ' "${generate[@]}" > "$OUT.command" && echo >> "$OUT.command"
if [ "$SPLIT" = test ]; then
  echo "$(date -u +%FT%TZ) $(cat "$OUT.command")" >> "$SAVE/test_decodes.log"
fi
"${generate[@]}" > "$OUT.generate.log" 2> "$OUT.generate.err" \
  || { tail -n 20 "$OUT.generate.err" >&2; exit 1; }
if [ -n "${REPLACE_UNK:-}" ]; then
  "$PYTHON" "$REPO/scripts/replace_unk.py" --generate-log "$OUT.generate.log" --source "$DATA/text/$SPLIT.$SRC" > "$OUT.tok"
else
  { grep '^H-' "$OUT.generate.log" || true; } | sed 's/^H-//' | sort -n -k1,1 | cut -f3 > "$OUT.tok"
fi
if [ -n "${DEDUP:-}" ]; then
  awk '{ out = ""; prev = ""; for (i = 1; i <= NF; i++) if ($i != prev) { out = out (out == "" ? "" : " ") $i; prev = $i } print out }' \
    "$OUT.tok" > "$OUT.tok.dedup" && mv "$OUT.tok.dedup" "$OUT.tok"
fi
fairseq-vmf-detok --data "$DATA" < "$OUT.tok" > "$OUT.txt"
REF="$DATA/raw/$SPLIT.$TGT"
# awk counts a last line without a newline too
hyps=$(awk 'END { print NR }' "$OUT.txt"); refs=$(awk 'END { print NR }' "$REF")
if [ "$hyps" -ne "$refs" ]; then
  echo "translate.sh: $hyps hypotheses for $refs references in $REF: fairseq-generate dropped sentences" >&2
  exit 1
fi
grep -o 'Translated .*' "$OUT.generate.err" >&2 || true
sacrebleu "$REF" -i "$OUT.txt" -m bleu -w 2 | tee "$OUT.bleu.json"
