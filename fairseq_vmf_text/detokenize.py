"""``fairseq-vmf-detok``: segmented target text (stdin) back to plain sentences (stdout).

Undoes what ``fairseq-vmf-prepare`` did to the target side, so hypotheses can be
scored with sacreBLEU against the raw references in ``<data>/raw/test.<tgt>``.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from .corpus import SUPPORTED_LANGUAGES
from .moses import moses_detokenize
from .subwords import sentencepiece_decode
from .errors import InputError
from .commands import parse_args, run_main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fairseq-vmf-detok", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="folder made by fairseq-vmf-prepare (reads its prepare.json)")
    parser.add_argument("--lang", help="language of the text (default: the data folder's target)")
    parser.add_argument("--seg", choices=("words", "spm"), help="how the text is segmented (default: from --data)")
    parser.add_argument("--spm-model", type=Path, help="SentencePiece model for --seg spm (default: from --data)")
    return parser


def detokenizer(args: argparse.Namespace):
    """A function from segmented lines to plain lines, configured from the flags."""
    lang, seg, spm_model = args.lang, args.seg, args.spm_model
    if args.data is not None:
        manifest_path = args.data / "prepare.json"
        if not manifest_path.is_file():
            raise InputError(f"--data {args.data}: no prepare.json there; run fairseq-vmf-prepare first")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        lang = lang or manifest["tgt"]
        seg = seg or manifest["segmentation"][lang]
        if seg == "spm" and spm_model is None:
            spm_model = args.data / manifest["spm_models"][lang]
    if lang not in SUPPORTED_LANGUAGES:
        raise InputError(f"--lang {lang!r}: give one of {', '.join(SUPPORTED_LANGUAGES)} (or --data)")
    seg = seg or "words"
    if seg == "spm":
        if spm_model is None:
            raise InputError("--seg spm needs --spm-model (or --data)")
        return lambda lines: sentencepiece_decode(lines, spm_model)
    return lambda lines: moses_detokenize(lines, lang)


def main(argv: Optional[List[str]] = None) -> None:
    detok = detokenizer(parse_args(build_parser(), argv))
    lines = [line.rstrip("\n") for line in sys.stdin]
    for line in detok(lines):
        sys.stdout.write(line + "\n")


def cli_main() -> None:
    run_main(main, "fairseq-vmf-detok")


if __name__ == "__main__":
    cli_main()
