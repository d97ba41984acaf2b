"""Extending a target table with words it was not trained with (``fairseq-vmf-embed --extend``).

A continuous-output model predicts a vector and decodes by nearest neighbour, so it can
decode with more rows than it was trained with, provided the new rows live in the same
space: the same vectors, normalised and centred on the *base table's* mean word direction
(kept in the table's ``.npz``), through the one row transform ``word_rows``. The first rows
stay the base's, bit for bit (``--decode-target-embeddings`` checks them against the
checkpoint). As a proof of the space, words the base already has are passed through the
same transform and must give back exactly their base rows; other vectors are refused.
"""

from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
from fairseq_vmf_text.corpus import read_text

from ..errors import InputError
from .target_table import TargetEmbeddingTable, word_rows
from .vectors import COMPOSED, MISSING, OWN

# base words re-derived on every extension to check the vectors are the base's own
CHECKED_BASE_WORDS = 1000


def read_word_list(path: Path) -> List[str]:
    """One word per line; an empty line or a repeated word is an error naming the line."""
    path = Path(path)
    lines = read_text(path, "word list").splitlines()
    seen: Dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        word = line.strip()
        if not word or len(word.split()) != 1:
            raise InputError(f"{path}: line {lineno} is {'empty' if not word else 'not one word'}: "
                             "a word list has one word per line")
        if word in seen:
            raise InputError(f"{path}: line {lineno} repeats {word!r} of line {seen[word]}")
        seen[word] = lineno
    return list(seen)


def words_of_text(path: Path) -> List[str]:
    """Every distinct whitespace-separated token of a text file, in order of appearance."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: text file not found")
    words: Dict[str, None] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                words.update(dict.fromkeys(line.split()))
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not valid UTF-8 text ({err.reason} at byte {err.start})") from None
    return list(words)


def extend_table(base: TargetEmbeddingTable, words: Iterable[str], vectors,
                 where: str) -> Tuple[TargetEmbeddingTable, Dict]:
    """``base`` plus one row per word of ``words`` that it lacks and ``vectors`` can embed.

    Returns the table and a report of how each extra row was made (own vector, composed from
    character n-grams, or skipped for want of a vector)."""
    if not base.extensible:
        raise InputError(f"{where}: made before tables kept what extending needs (the centring mean and "
                         "which rows are random); rebuild it with fairseq-vmf-embed")
    if vectors.dim != base.dim:
        raise InputError(f"{where}: the table has dimension {base.dim} but the vectors {vectors.dim}")
    index = {symbol: i for i, symbol in enumerate(base.symbols)}
    check_rows = np.flatnonzero(~base.random_rows)[:CHECKED_BASE_WORDS]
    check_base_words(base, [base.symbols[i] for i in check_rows], vectors, where)

    new_symbols: List[str] = []
    raw: List[np.ndarray] = []
    kinds: List[str] = []
    skipped: List[str] = []
    already = 0
    for word in words:
        if word in index:
            already += 1
            continue
        vector, kind = vectors.lookup(word)
        if kind == MISSING or vector is None or not np.any(vector):
            skipped.append(word)
            continue
        index[word] = -1
        new_symbols.append(word)
        raw.append(vector)
        kinds.append(kind)
    rows = (word_rows(np.stack(raw), base.word_mean, new_symbols, base.random_mix, base.mix_seed) if raw
            else np.zeros((0, base.dim), np.float32))
    finite = np.isfinite(rows).all(axis=1)  # a word exactly at the mean has no direction
    skipped += [w for w, ok in zip(new_symbols, finite) if not ok]
    new_symbols = [w for w, ok in zip(new_symbols, finite) if ok]
    kinds = [k for k, ok in zip(kinds, finite) if ok]
    table = TargetEmbeddingTable(
        base.symbols + new_symbols, np.concatenate([base.vectors, rows[finite]]), base.word_mean,
        np.concatenate([base.random_rows, np.zeros(len(new_symbols), dtype=bool)]), base.random_mix, base.mix_seed,
    )
    report = {
        "base_rows": len(base.symbols),
        "extra_rows": len(new_symbols),
        "own": kinds.count(OWN),
        "composed": kinds.count(COMPOSED),
        "skipped_no_vector": len(skipped),
        "skipped_examples": skipped[:20],
        "already_in_base": already,
        "base_words_checked": len(check_rows),
        "extra_row_kinds": kinds,
    }
    return table, report


def check_base_words(base: TargetEmbeddingTable, words: Sequence[str], vectors, where: str) -> None:
    """The base's own words, through ``word_rows``, must give exactly the base's rows."""
    if not words:
        return
    raw = []
    for word in words:
        vector, kind = vectors.lookup(word)
        if kind == MISSING or vector is None:
            raise InputError(f"{where}: the vectors have no vector for {word!r}, a word of the table: "
                             "give the vectors the table was made from")
        raw.append(vector)
    again = word_rows(np.stack(raw), base.word_mean, list(words), base.random_mix, base.mix_seed)
    positions = {symbol: i for i, symbol in enumerate(base.symbols)}
    expected = base.vectors[[positions[w] for w in words]]
    differ = np.flatnonzero(~(again == expected).all(axis=1))
    if len(differ):
        raise InputError(f"{where}: the vectors give {len(differ)} of {len(words)} of the table's own words "
                         f"other rows than it has (e.g. {words[differ[0]]!r}): they are not the vectors it "
                         "was made from")
