"""Moses tokenization and detokenization (sacremoses), per language.

Tokens are what the word-level target vocabulary, the fastText vectors and fairseq's
whitespace splitting all agree on, so every whitespace run (including non-breaking
spaces and tabs, which Multi30k has a few of) is collapsed to one ASCII space: fastText
splits only on ASCII whitespace, fairseq on any, and a disagreement would give a word
two spellings.
"""

from functools import lru_cache
from typing import Iterable, List


@lru_cache(maxsize=None)
def _tokenizer(lang: str):
    from sacremoses import MosesTokenizer

    return MosesTokenizer(lang=lang)


@lru_cache(maxsize=None)
def _detokenizer(lang: str):
    from sacremoses import MosesDetokenizer

    return MosesDetokenizer(lang=lang)


@lru_cache(maxsize=None)
def _punct_normalizer(lang: str):
    from sacremoses import MosesPunctNormalizer

    return MosesPunctNormalizer(lang=lang)


def moses_tokenize(lines: Iterable[str], lang: str, normalize_punct: bool = False) -> List[str]:
    """Tokenize each line; no HTML escaping (``'`` stays ``'``, not ``&apos;``)."""
    tokenizer = _tokenizer(lang)
    normalizer = _punct_normalizer(lang) if normalize_punct else None
    out = []
    for line in lines:
        if normalizer is not None:
            line = normalizer.normalize(line)
        tokens = tokenizer.tokenize(line, escape=False, aggressive_dash_splits=False)
        out.append(" ".join(" ".join(tokens).split()))
    return out


def moses_detokenize(lines: Iterable[str], lang: str) -> List[str]:
    """Undo :func:`moses_tokenize` (exact for nearly all Multi30k sentences)."""
    detokenizer = _detokenizer(lang)
    return [detokenizer.detokenize(line.split()) for line in lines]
