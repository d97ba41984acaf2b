"""SentencePiece models: training on raw text, encoding to pieces, decoding back.

SentencePiece works on raw (untokenized) text and is lossless, so decoding the pieces
gives the original sentence back and needs no Moses detokenizer.
"""

from pathlib import Path
from typing import Iterable, List

from .errors import InputError


def train_sentencepiece(
    text_file: Path, model_prefix: Path, vocab_size: int, model_type: str = "unigram", seed: int = 1
) -> Path:
    """Train a model on ``text_file`` (one sentence per line); returns the ``.model`` path.

    ``vocab_size`` is a soft limit (``hard_vocab_limit=False``): on a small corpus
    SentencePiece makes as many pieces as the text allows instead of failing.
    """
    import sentencepiece as spm

    if vocab_size < 8:
        raise InputError(f"SentencePiece vocabulary size {vocab_size} is too small (need at least 8)")
    spm.set_random_generator_seed(seed)
    model_prefix = Path(model_prefix)
    model_prefix.parent.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        input=str(text_file),
        model_prefix=str(model_prefix),
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=1.0,
        hard_vocab_limit=False,
        # fairseq adds its own <s> <pad> </s> <unk>; SentencePiece keeps only <unk>,
        # which fairseq's dictionary maps to its own <unk>.
        bos_id=-1,
        eos_id=-1,
        # One thread and a fixed seed: the same corpus gives the same pieces and scores.
        num_threads=1,
        minloglevel=2,
    )
    return Path(f"{model_prefix}.model")


def _processor(model_file: Path):
    import sentencepiece as spm

    if not Path(model_file).is_file():
        raise InputError(f"{model_file}: SentencePiece model not found")
    return spm.SentencePieceProcessor(model_file=str(model_file))


def sentencepiece_encode(lines: Iterable[str], model_file: Path) -> List[str]:
    """Each line as space-separated pieces."""
    processor = _processor(model_file)
    return [" ".join(processor.encode(line, out_type=str)) for line in lines]


def sentencepiece_decode(lines: Iterable[str], model_file: Path) -> List[str]:
    """Space-separated pieces back to text."""
    processor = _processor(model_file)
    return [processor.decode(line.split()) for line in lines]
