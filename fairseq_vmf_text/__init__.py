"""fairseq_vmf_text: the text layer under the fairseq_vmf plugin, free of fairseq and torch.

Reading and checking raw corpora, Moses and SentencePiece segmentation, the error type
for bad user input, and the two text commands (``fairseq-vmf-segment``,
``fairseq-vmf-detok``). The plugin package ``fairseq_vmf`` must register its fairseq
components whenever it is imported, which imports fairseq and torch (seconds per
process); these modules import neither, so the text commands start at once and
``scripts/translate.sh`` does not pay fairseq's start-up to detokenize.
"""
