#!/usr/bin/env bash
# Translate plain sentences (stdin, one per line) with a trained system and print plain
# translations (stdout, one per line, same order), with the pre- and post-processing of
# training: fairseq-vmf-segment -> fairseq-interactive -> fairseq-vmf-detok.
#   usage: echo "A dog runs on the beach." | scripts/translate_text.sh SAVE_DIR DATA
#   BEAM (default 5)   CKPT (default SAVE_DIR/checkpoint_best.pt)
#   GEN_ARGS  more fairseq-interactive flags (e.g. "--knn-kappa-scale 2")
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SAVE=${1:?usage: translate_text.sh SAVE_DIR DATA  (sentences on stdin)}
DATA=${2:?usage: translate_text.sh SAVE_DIR DATA  (sentences on stdin)}
CKPT=${CKPT:-$SAVE/checkpoint_best.pt}
[ -f "$CKPT" ] || { echo "translate_text.sh: no $CKPT (train first)" >&2; exit 2; }
[ -f "$DATA/prepare.json" ] || { echo "translate_text.sh: $DATA/prepare.json not found (the data folder the system was trained on)" >&2; exit 2; }
read -r SRC TGT < <(python -c "import json, sys; m = json.load(open(sys.argv[1])); print(m['src'], m['tgt'])" "$DATA/prepare.json")
TASK=$(python -c "
import sys, torch, fairseq_vmf
print(torch.load(sys.argv[1], map_location='cpu')['cfg']['task']['_name'])" "$CKPT" 2>/dev/null) \
  || { echo "translate_text.sh: cannot read the task from $CKPT" >&2; exit 2; }

# fairseq-interactive numbers its inputs (S-i / H-i lines): sort hypotheses back by i;
# its log goes to a temporary file, shown only if something fails
log=$(mktemp); trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086
fairseq-vmf-segment --data "$DATA" 2>>"$log" \
  | fairseq-interactive "$DATA/bin" --user-dir "$REPO/fairseq_vmf" --task "$TASK" --path "$CKPT" \
      --source-lang "$SRC" --target-lang "$TGT" --beam "${BEAM:-5}" --max-len-a 1.2 --max-len-b 10 \
      --buffer-size 256 --batch-size 64 ${GEN_ARGS:-} 2>>"$log" \
  | { grep '^H-' || true; } | sed 's/^H-//' | sort -n -k1,1 | cut -f3 \
  | fairseq-vmf-detok --data "$DATA" \
  || { tail -n 20 "$log" >&2; exit 1; }
