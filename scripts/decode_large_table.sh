#!/usr/bin/env bash
# Decode a trained continuous model with a table far larger than its training table: the
# training rows, then extra rows that fastText composes from character n-grams for
# synthetic words (two training words joined, e.g. "chienmaison": not words of the language,
# but rows the kNN search must scan and may wrongly pick), made by fairseq-vmf-embed --extend.
# Decodes the split with both tables (default kNN backend) and writes one table: BLEU, the
# generate time, peak memory (GNU time's maximum resident set), output words that are
# extra rows.
#   usage: scripts/decode_large_table.sh SRC TGT SAVE DATA
#   ROWS   rows of the large table (default 1000000)
#   CKPT   checkpoint (default SAVE/checkpoint_avg_last5.pt, else SAVE/checkpoint_best.pt)
#   SPLIT, BEAM  as scripts/translate.sh (default test, 5)
#   OUT    the result table (default SAVE/large_table.SPLIT.beamBEAM.md)
#   BASE   the training table (default: the one named in the checkpoint)
#   VECTORS  the vectors BASE was made from (default DATA/embeddings/fasttext.TGT.bin)
# The large table is kept as SAVE/table_ROWS.npz (reused by a rerun; about 1.2 GB at 1M x 300).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: decode_large_table.sh SRC TGT SAVE DATA}
TGT=${2:?usage: decode_large_table.sh SRC TGT SAVE DATA}
SAVE=${3:?usage: decode_large_table.sh SRC TGT SAVE DATA}
DATA=${4:?usage: decode_large_table.sh SRC TGT SAVE DATA}
ROWS=${ROWS:-1000000}
SPLIT=${SPLIT:-test}
BEAM=${BEAM:-5}
if [ -z "${CKPT:-}" ]; then
  CKPT=$SAVE/checkpoint_avg_last5.pt
  [ -f "$CKPT" ] || CKPT=$SAVE/checkpoint_best.pt
fi
OUT=${OUT:-$SAVE/large_table.$SPLIT.beam$BEAM.md}
[ -f "$CKPT" ] || { echo "decode_large_table.sh: $CKPT not found" >&2; exit 2; }
# the table the model was trained with (the large table must start with its rows)
BASE=${BASE:-$(python -c "
import sys, torch, fairseq_vmf
print(torch.load(sys.argv[1], map_location='cpu')['cfg']['task']['target_embeddings'])" "$CKPT")} \
  || { echo "decode_large_table.sh: cannot read the training table from $CKPT (set BASE=)" >&2; exit 2; }
VECTORS=${VECTORS:-$DATA/embeddings/fasttext.$TGT.bin}
for f in "$CKPT" "$BASE" "$VECTORS" "$DATA/tok/train.$TGT"; do
  [ -f "$f" ] || { echo "decode_large_table.sh: $f not found" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "decode_large_table.sh: needs GNU time (/usr/bin/time) for peak memory" >&2; exit 2; }
LARGE=$SAVE/table_$ROWS.npz

if [ ! -f "$LARGE" ]; then
  words=$(mktemp); trap 'rm -f "$words"' EXIT
  python - "$BASE" "$DATA/tok/train.$TGT" "$ROWS" "$words" <<'EOF'
import sys
import numpy as np
base_path, train_text, rows, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
symbols = np.load(base_path)["symbols"].tolist()
need = rows - len(symbols)
if need <= 0:
    sys.exit(f"decode_large_table.sh: ROWS={rows} is not above the training table's {len(symbols)} rows")
words = [w for w in dict.fromkeys(open(train_text, encoding="utf-8").read().split()) if w.isalpha()]
known, new = set(symbols), []
for first in words:  # deterministic: training order, each word joined with every other
    for second in words:
        joined = first + second
        if joined not in known:
            known.add(joined)
            new.append(joined)
            if len(new) == need:
                break
    if len(new) == need:
        break
if len(new) < need:
    sys.exit(f"decode_large_table.sh: only {len(new)} synthetic words from {train_text}; lower ROWS")
open(out, "w", encoding="utf-8").write("\n".join(new) + "\n")
EOF
  fairseq-vmf-embed --extend "$BASE" --vectors "$VECTORS" --words "$words" --output "$LARGE"
fi

decode() {  # tag gen-args -> "seconds peak_kb"
  local tag=$1; shift
  /usr/bin/time -f "%e %M" -o "$SAVE/$SPLIT.beam$BEAM.$tag.time" env CKPT="$CKPT" SPLIT="$SPLIT" BEAM="$BEAM" \
    TAG="$tag" GEN_ARGS="$*" bash "$REPO/scripts/translate.sh" "$SRC" "$TGT" "$SAVE" "$DATA" > /dev/null
}
decode train_table
decode "table_$ROWS" --decode-target-embeddings "$LARGE"

python - "$SAVE/$SPLIT.beam$BEAM" "$ROWS" "$BASE" "$OUT" <<'EOF'
import json, re, sys
import numpy as np
stem, rows, base_path, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
base = set(np.load(base_path)["symbols"].tolist())
lines = ["| table | rows | BLEU | generate + scoring (s) | decoding (fairseq, s) | peak memory (MB) "
         "| output words from extra rows |", "|---|---|---|---|---|---|---|"]
for tag, count in (("train_table", len(base)), (f"table_{rows}", rows)):
    seconds, peak_kb = open(f"{stem}.{tag}.time").read().split()[-2:]
    bleu = json.load(open(f"{stem}.{tag}.bleu.json"))["score"]
    err = open(f"{stem}.{tag}.generate.err", encoding="utf-8").read()
    found = re.search(r"Translated .* in ([0-9.]+)s", err)
    tokens = open(f"{stem}.{tag}.tok", encoding="utf-8").read().split()
    extra = sum(t not in base for t in tokens)
    lines.append(f"| {tag} | {count:,} | {bleu:.2f} | {float(seconds):.0f} | {found.group(1) if found else '?'} "
                 f"| {int(peak_kb) / 1024:.0f} | {extra} of {len(tokens)} |")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
