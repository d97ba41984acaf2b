#!/usr/bin/env bash
# Decode test_2016_flickr with two trained systems at beam 1 and beam 5 in one run, and print
# BLEU and fairseq-generate's sentences/second for each, with the speed ratio of the second
# system over the first (same machine, same run, one after the other).
#   usage: scripts/compare_decoding.sh SRC TGT BASELINE_DIR SYSTEM_DIR [DATA]
#   e.g.   scripts/compare_decoding.sh en fr checkpoints/en-fr.softmax checkpoints/en-fr.vmf
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: compare_decoding.sh SRC TGT BASELINE_DIR SYSTEM_DIR [DATA]}
TGT=${2:?}; BASE=${3:?}; SYSTEM=${4:?}
DATA=${5:-data/multi30k.$SRC-$TGT}
declare -A speed bleu
for beam in 1 5; do
  for dir in "$BASE" "$SYSTEM"; do
    BEAM=$beam TAG=compare bash "$REPO/scripts/translate.sh" "$SRC" "$TGT" "$dir" "$DATA" > /dev/null 2>&1
    out="$dir/test.beam$beam.compare"
    speed[$dir.$beam]=$(grep -o '[0-9.]* sentences/s' "$out.generate.err" | cut -d' ' -f1)
    bleu[$dir.$beam]=$(python -c "import json,sys; print(json.load(open(sys.argv[1]))['score'])" "$out.bleu.json")
  done
done
sig=$(python -c "import json,sys; print(json.load(open(sys.argv[1]))['signature'])" "$SYSTEM/test.beam5.compare.bleu.json")
echo "| system | beam | BLEU | sentences/s | speed vs $(basename "$BASE") |"
echo "| --- | --- | --- | --- | --- |"
for beam in 1 5; do
  for dir in "$BASE" "$SYSTEM"; do
    ratio=$(python -c "print(f'{$(printf %s "${speed[$dir.$beam]}") / $(printf %s "${speed[$BASE.$beam]}"):.2f}x')")
    echo "| $(basename "$dir") | $beam | ${bleu[$dir.$beam]} | ${speed[$dir.$beam]} | $ratio |"
  done
done
echo "sacreBLEU signature: $sig"
