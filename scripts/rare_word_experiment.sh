#!/usr/bin/env bash
# Rare words with a capped target vocabulary (words seen 3+ times in train): can an extended
# table write correct words that a softmax model with the same cap can only write as <unk>?
#   1. data: configs/prepare/multi30k_word_word_cap3.yaml (its fastText model is trained on
#      the whole training text, so cut words have vectors of their own);
#   2. the continuous recipe with --ignore-unk-targets (cut words, <unk> in the data, get no
#      loss: the model is never trained towards the <unk> row) and its softmax twin;
#   3. test, beam 5: continuous with (a) the training table and (b) the table extended by
#      every other word of the training text (fairseq-vmf-embed --extend --words-from-text;
#      never valid or test text), <unk> forbidden (--unkpen); softmax with and without
#      REPLACE_UNK=1 (the source word copied for each <unk>, as --replace-unk means to);
#   4. scripts/rare_words.py: BLEU, <unk> rate, out-of-cap outputs, their precision, recall.
#   usage: scripts/rare_word_experiment.sh SRC TGT
#   VMF_UPDATES / SOFTMAX_UPDATES  budgets (default 5000 / 3000, the quality recipes')
#   RESULTS   where the table and the outputs go (default results/rare_words: SRC-TGT.md, SRC-TGT/)
#   TABLE_NAME  the continuous model's table in DATA/embeddings (default fasttext_mix0.5, the
#             main job's; e.g. fasttext: the plain one). Another table trains its own model
#             (checkpoints/rare.SRC-TGT.vmf.NAME) and writes SRC-TGT.NAME.md, SRC-TGT.NAME/
# Resumable: finished trainings and decodes are not redone.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:?usage: rare_word_experiment.sh SRC TGT}
TGT=${2:?usage: rare_word_experiment.sh SRC TGT}
RESULTS=${RESULTS:-results/rare_words}
DATA=data/multi30k-word_word_cap3.$SRC-$TGT
TABLE_NAME=${TABLE_NAME:-fasttext_mix0.5}
SUFFIX=$([ "$TABLE_NAME" = fasttext_mix0.5 ] || echo ".$TABLE_NAME")
VMF=checkpoints/rare.$SRC-$TGT.vmf$SUFFIX
SOFTMAX=checkpoints/rare.$SRC-$TGT.softmax

DATA_VARIANT=word_word_cap3 bash "$REPO/scripts/prepare.sh" "$SRC" "$TGT" "$DATA"
finished() { [ -f "$1/train.log" ] && grep -q "done training" "$1/train.log"; }
finished "$VMF" || RESUME=1 MAX_UPDATE=${VMF_UPDATES:-5000} EXTRA_ARGS=--ignore-unk-targets \
  TABLE=$DATA/embeddings/$TABLE_NAME.$TGT.npz \
  bash "$REPO/scripts/train.sh" "$SRC" "$TGT" vmf "$DATA" "$VMF"
finished "$SOFTMAX" || RESUME=1 MAX_UPDATE=${SOFTMAX_UPDATES:-3000} \
  bash "$REPO/scripts/train.sh" "$SRC" "$TGT" softmax "$DATA" "$SOFTMAX"
for save in "$VMF" "$SOFTMAX"; do  # decode the mean of the last 5 epochs, as the main job does
  [ -f "$save/checkpoint_avg_last5.pt" ] || fairseq-vmf-average --inputs "$save" --last 5 --output "$save/checkpoint_avg_last5.pt"
done

EXTENDED=$VMF/table_extended.npz
# the model's training table, extended from the fastText model it was made from
[ -f "$EXTENDED" ] || fairseq-vmf-embed --extend "$DATA/embeddings/$TABLE_NAME.$TGT.npz" \
  --vectors "$DATA/embeddings/fasttext.$TGT.bin" --words-from-text "$DATA/tok/train.$TGT" --output "$EXTENDED"

decode() {  # save tag gen-args...
  local save=$1 tag=$2; shift 2
  [ -f "$save/test.beam5.$tag.bleu.json" ] || CKPT=$save/checkpoint_avg_last5.pt SPLIT=test BEAM=5 TAG=$tag \
    GEN_ARGS="$*" bash "$REPO/scripts/translate.sh" "$SRC" "$TGT" "$save" "$DATA" > /dev/null
}
decode "$VMF" train_table
decode "$VMF" extended --decode-target-embeddings "$EXTENDED" --unkpen 100
decode "$SOFTMAX" plain
REPLACE_UNK=1 decode "$SOFTMAX" replace_unk  # fairseq's --replace-unk cannot run (scripts/replace_unk.py)

# what every number can be re-scored from: outputs, commands, scores, training logs, and
# how each extended row was made
OUTDIR=$RESULTS/$SRC-$TGT$SUFFIX
mkdir -p "$OUTDIR"
keep() {  # save tag name
  mkdir -p "$OUTDIR/$3"
  for ext in txt tok command bleu.json; do cp "$1/test.beam5.$2.$ext" "$OUTDIR/$3/test.beam5.$ext"; done
}
keep "$VMF" train_table vmf_train_table
keep "$VMF" extended vmf_extended
keep "$SOFTMAX" plain softmax
keep "$SOFTMAX" replace_unk softmax_replace_unk
gzip -c "$VMF/train.log" > "$OUTDIR/vmf.train.log.gz"
gzip -c "$SOFTMAX/train.log" > "$OUTDIR/softmax.train.log.gz"
cp "${EXTENDED%.npz}.coverage.json" "$OUTDIR/table_extended.coverage.json"  # fairseq-vmf-embed's report
python "$REPO/scripts/rare_words.py" --ref-tok "$DATA/tok/test.$TGT" --dict "$DATA/bin/dict.$TGT.txt" \
  --hyp "vmf, training table=$OUTDIR/vmf_train_table/test.beam5" \
  --hyp "vmf, extended table, <unk> forbidden=$OUTDIR/vmf_extended/test.beam5" \
  --hyp "softmax=$OUTDIR/softmax/test.beam5" \
  --hyp "softmax, <unk> replaced by the aligned source word=$OUTDIR/softmax_replace_unk/test.beam5" \
  --out "$OUTDIR.md"
# can the model point at the cut words' rows at all? teacher-forced ranks in the extended table
python "$REPO/scripts/rare_word_ranks.py" --checkpoint "$VMF/checkpoint_avg_last5.pt" --data "$DATA" \
  --table "$EXTENDED" --out "$OUTDIR.ranks.md"
