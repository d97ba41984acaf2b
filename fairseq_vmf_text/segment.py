"""``fairseq-vmf-segment``: plain sentences (stdin) segmented as a prepared side (stdout).

Applies to new text exactly what ``fairseq-vmf-prepare`` applied to the training data
of one side (default: the source): whitespace runs collapsed, then Moses tokenization
(with the same punctuation normalisation) or the side's SentencePiece model. The inverse
of the target side is ``fairseq-vmf-detok``; ``scripts/translate_text.sh`` chains them
around ``fairseq-interactive``.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from .moses import moses_tokenize
from .subwords import sentencepiece_encode
from .errors import InputError
from .commands import parse_args, run_main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fairseq-vmf-segment", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder made by fairseq-vmf-prepare")
    parser.add_argument("--lang", help="which side's segmentation (default: the data folder's source)")
    return parser


def segmenter(data: Path, lang: Optional[str]):
    """A function from plain lines to segmented lines, as prepared for ``lang`` in ``data``."""
    manifest_path = data / "prepare.json"
    if not manifest_path.is_file():
        raise InputError(f"--data {data}: no prepare.json there; run fairseq-vmf-prepare first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    lang = lang or manifest["src"]
    if lang not in manifest["segmentation"]:
        raise InputError(f"--lang {lang!r}: {data} holds {' and '.join(manifest['segmentation'])}")
    if manifest["segmentation"][lang] == "spm":
        model = data / manifest["spm_models"][lang]
        return lambda lines: sentencepiece_encode(lines, model)
    normalize = bool(manifest.get("normalize_punct", False))
    return lambda lines: moses_tokenize(lines, lang, normalize)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(build_parser(), argv)
    segment = segmenter(args.data, args.lang)
    lines = [" ".join(line.split()) for line in sys.stdin]
    for line in segment(lines):
        sys.stdout.write(line + "\n")


def cli_main() -> None:
    run_main(main, "fairseq-vmf-segment")


if __name__ == "__main__":
    cli_main()
