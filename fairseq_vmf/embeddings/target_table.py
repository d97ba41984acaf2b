"""The fixed target-embedding table: one unit vector per fairseq target-dictionary symbol.

Row *i* is the embedding of dictionary symbol *i*. Continuous-output models are
trained to predict these rows and decode by searching them, so the table is frozen.

Rows of symbols that are not words (policy; see the README, "Target embeddings"):

* ``<s>``, ``<pad>``, ``</s>``, ``<unk>`` and fairseq's ``madeupwordNNNN`` fillers get
  random unit vectors, mutually orthogonal when the dimension allows, drawn from
  ``seed``. Random directions in hundreds of dimensions are nearly orthogonal to every
  word vector, so ``</s>`` and ``<unk>`` can be predicted and found by nearest-neighbour
  search without being confused with a word (fastText's own ``</s>`` vector, trained as
  the end-of-line context, lies close to ``.``). A zero row would make cosines NaN.
* Word vectors are centred (the mean word direction is subtracted) before they are
  normalised, unless ``center=False``: see ``build_target_table``.
* A dictionary word with no vector of its own gets one composed from its character
  n-grams when the vectors come from a fastText ``.bin`` with subwords, and otherwise a
  random unit vector (reported as *missing*).
"""

import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputError
from .vectors import COMPOSED, MISSING, OWN

# fairseq's Dictionary: <s>, <pad>, </s>, <unk> at indices 0-3, then the words; a
# dictionary padded to a multiple of 8 ends with "madeupword0000", "madeupword0001"...
FAIRSEQ_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
FILLER_PREFIX = "madeupword"


def is_filler(symbol: str) -> bool:
    """Whether ``symbol`` is one of the ``madeupwordNNNN`` rows fairseq pads dictionaries with."""
    return symbol.startswith(FILLER_PREFIX) and symbol[len(FILLER_PREFIX):].isdigit()


def is_special(symbol: str) -> bool:
    """Whether ``symbol`` is one of fairseq's non-word symbols."""
    return symbol in FAIRSEQ_SPECIALS or is_filler(symbol)


def special_vectors(count: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random unit vectors, orthonormal when ``count <= dim``."""
    gaussian = rng.standard_normal((dim, count))
    if count <= dim:
        basis, _ = np.linalg.qr(gaussian)
        return basis.T.astype(np.float32)
    return _unit_rows(gaussian.T).astype(np.float32)


def unit_row_problem(vectors: np.ndarray, tolerance: float = 1e-3) -> str:
    """'' if every row is a finite unit vector, else what is wrong with the first bad row."""
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        return f"row {int(np.argmin(finite))} is not finite"
    norms = np.linalg.norm(vectors, axis=1)
    wrong = np.abs(norms - 1.0) > tolerance
    if wrong.any():
        row = int(np.argmax(wrong))
        kind = "zero-norm" if norms[row] == 0 else f"of norm {norms[row]:.4g}, not unit-norm"
        return f"row {row} is {kind} (zero rows make cosines NaN)"
    return ""


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / norms


def word_random_directions(words: Sequence[str], dim: int, seed: int) -> np.ndarray:
    """One random unit vector per word, a function of (``seed``, the word) alone, so a table
    extension draws the same direction for a word as the table did (float64)."""
    rows = np.empty((len(words), dim), dtype=np.float64)
    for j, word in enumerate(words):
        rows[j] = np.random.default_rng([seed, zlib.crc32(word.encode("utf-8"))]).standard_normal(dim)
    return _unit_rows(rows)


def word_rows(raw: np.ndarray, mean: Optional[np.ndarray], words: Sequence[str] = (),
              random_mix: float = 0.0, mix_seed: int = 0) -> np.ndarray:
    """Table rows of word vectors: normalised, minus the mean word direction ``mean`` (when
    the table is centred), normalised again; float32. With ``random_mix`` w > 0 each row
    becomes unit(sqrt(1 - w) row + sqrt(w) r(word)), r from ``word_random_directions``:
    pretrained neighbours keep a (1 - w) share of their cosine, the rest is nearly
    orthogonal, which spreads crowded (rare, same-stem) words apart. The one definition
    used both to build a table and to extend it, so an extension row lives in the table's
    space."""
    words_f32 = raw.astype(np.float32)
    if mean is not None:
        words_f32 = (_unit_rows(words_f32.astype(np.float64)) - mean).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):  # a word exactly at the mean: NaN, handled by callers
        rows = _unit_rows(words_f32.astype(np.float64))
        if random_mix > 0:
            if len(words) != len(rows):
                raise ValueError("random_mix needs the words of the rows")
            rows = _unit_rows(np.sqrt(1.0 - random_mix) * rows
                              + np.sqrt(random_mix) * word_random_directions(words, rows.shape[1], mix_seed))
        return rows.astype(np.float32)


@dataclass
class Coverage:
    """How each dictionary row got its vector."""

    own: int = 0
    composed: int = 0
    missing: int = 0
    special: int = 0
    missing_examples: List[str] = field(default_factory=list)
    # Largest cosine between any special row and any word row: how well separated they are.
    max_special_word_cosine: float = 0.0

    @property
    def words(self) -> int:
        return self.own + self.composed + self.missing

    def summary(self) -> str:
        words = max(self.words, 1)
        return (
            f"{self.words} words: {self.own} own vector ({100 * self.own / words:.1f}%), "
            f"{self.composed} composed from n-grams ({100 * self.composed / words:.1f}%), "
            f"{self.missing} missing ({100 * self.missing / words:.1f}%); "
            f"{self.special} special symbols (max cosine to a word {self.max_special_word_cosine:.3f})"
        )


@dataclass
class TargetEmbeddingTable:
    """``vectors[i]`` (float32, unit norm) is the embedding of ``symbols[i]``."""

    symbols: List[str]
    vectors: np.ndarray
    # What extending the table needs (``fairseq-vmf-embed --extend``); None in tables made
    # before: the mean word direction subtracted before normalising (None: not centred)
    # and which rows are random (special symbols, words without a vector).
    word_mean: Optional[np.ndarray] = None
    random_rows: Optional[np.ndarray] = None
    # ``word_rows``'s random_mix and its seed (0: pretrained directions only)
    random_mix: float = 0.0
    mix_seed: int = 0

    @property
    def extensible(self) -> bool:
        return self.random_rows is not None

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def save(self, path: Path) -> None:
        """Write ``path`` (``.npz``: ``vectors`` and ``symbols``), loadable without pickle."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        extra = {}
        if self.extensible:
            extra = {"random_rows": self.random_rows.astype(bool),
                     "word_mean": np.zeros(0) if self.word_mean is None else self.word_mean.astype(np.float64)}
            if self.random_mix > 0:
                extra.update(random_mix=np.float64(self.random_mix), mix_seed=np.int64(self.mix_seed))
        with open(path, "wb") as handle:
            np.savez(handle, vectors=self.vectors, symbols=np.array(self.symbols, dtype=str), **extra)

    @classmethod
    def load(cls, path: Path) -> "TargetEmbeddingTable":
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: target embedding table not found")
        try:
            with np.load(path, allow_pickle=False) as data:
                vectors = data["vectors"].astype(np.float32)
                symbols = [str(s) for s in data["symbols"]]
                random_rows = data["random_rows"].astype(bool) if "random_rows" in data else None
                word_mean = data["word_mean"].astype(np.float64) if "word_mean" in data else None
                random_mix = float(data["random_mix"]) if "random_mix" in data else 0.0
                mix_seed = int(data["mix_seed"]) if "mix_seed" in data else 0
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile) as err:
            raise InputError(f"{path}: not a target embedding table ({err or type(err).__name__})") from None
        if vectors.ndim != 2 or len(symbols) != vectors.shape[0]:
            raise InputError(f"{path}: {len(symbols)} symbols but vectors of shape {vectors.shape}")
        if vectors.ndim == 2 and vectors.shape[1] < 2:
            raise InputError(f"{path}: vectors have dimension {vectors.shape[1]}; the vMF needs m >= 2")
        bad = unit_row_problem(vectors)
        if bad:
            raise InputError(f"{path}: {bad}; rebuild the table with fairseq-vmf-embed")
        if random_rows is not None and (random_rows.shape != (len(symbols),) or word_mean.ndim != 1
                                        or len(word_mean) not in (0, vectors.shape[1])):
            raise InputError(f"{path}: its extension data does not match its {len(symbols)} x {vectors.shape[1]} rows")
        if not 0 <= random_mix < 1:
            raise InputError(f"{path}: random_mix {random_mix} is outside [0, 1)")
        return cls(symbols, vectors, None if word_mean is None or len(word_mean) == 0 else word_mean, random_rows,
                   random_mix, mix_seed)

    def check_matches(self, dictionary_symbols: Sequence[str], where: str) -> None:
        """Fail unless row *i* belongs to dictionary symbol *i* for every *i*."""
        if list(dictionary_symbols) == self.symbols:
            return
        if len(dictionary_symbols) != len(self.symbols):
            raise InputError(
                f"{where}: table has {len(self.symbols)} rows but the dictionary has "
                f"{len(dictionary_symbols)} symbols; rebuild it with fairseq-vmf-embed"
            )
        first = next(i for i, (a, b) in enumerate(zip(dictionary_symbols, self.symbols)) if a != b)
        raise InputError(
            f"{where}: row {first} is {self.symbols[first]!r} but dictionary symbol {first} "
            f"is {dictionary_symbols[first]!r}; rebuild the table with fairseq-vmf-embed"
        )


def build_target_table(
    symbols: Sequence[str], vectors, seed: int = 1, center: bool = True, random_mix: float = 0.0
) -> Tuple[TargetEmbeddingTable, Coverage]:
    """Fill one unit row per symbol from ``vectors`` (see the module docstring for the policy).

    Args:
        symbols: the target dictionary's symbols in index order (``Dictionary.symbols``).
        vectors: a source with ``dim`` and ``lookup(word) -> (vector or None, kind)``.
        seed: seeds the random rows (specials and missing words); same inputs and seed,
            same table.
        center: subtract the mean of the dictionary words' vectors before normalising.
            fastText vectors share a large common direction (on Multi30k the mean
            cosine between two random words is 0.83); predicting that direction gives
            a high cosine with every word and ranks neighbours by noise. Centring
            brings the mean pairwise cosine to about 0.
        random_mix: w in [0, 1): mix each word row with a random direction of its own
            (see ``word_rows``), drawn from ``seed`` and the word.
    """
    if not 0 <= random_mix < 1:
        raise InputError(f"--random-mix must be in [0, 1), got {random_mix}")
    rng = np.random.default_rng(seed)
    dim = vectors.dim
    table = np.zeros((len(symbols), dim), dtype=np.float32)
    coverage = Coverage()
    special_rows = [i for i, s in enumerate(symbols) if is_special(s)]
    table[special_rows] = special_vectors(len(special_rows), dim, rng)
    coverage.special = len(special_rows)
    missing_rows = []
    for i, symbol in enumerate(symbols):
        if is_special(symbol):
            continue
        vector, kind = vectors.lookup(symbol)
        if kind == MISSING or vector is None or not np.any(vector):
            missing_rows.append(i)
            coverage.missing += 1
            if len(coverage.missing_examples) < 20:
                coverage.missing_examples.append(symbol)
            continue
        table[i] = vector
        coverage.own += kind == OWN
        coverage.composed += kind == COMPOSED
    missing = set(missing_rows)
    vector_rows = [i for i, s in enumerate(symbols) if not is_special(s) and i not in missing]
    mean = None
    if center and len(vector_rows) > 1:  # the mean of the word directions, not of raw lengths
        mean = _unit_rows(table[vector_rows].astype(np.float64)).mean(axis=0)
    if vector_rows:
        table[vector_rows] = word_rows(table[vector_rows], mean, [symbols[i] for i in vector_rows],
                                       random_mix, seed)
        at_mean = [vector_rows[j] for j in np.flatnonzero(~np.isfinite(table[vector_rows]).all(axis=1))]
        missing_rows += at_mean  # a word exactly at the mean has no direction left
    if missing_rows:
        table[missing_rows] = _unit_rows(rng.standard_normal((len(missing_rows), dim))).astype(np.float32)
    random_rows = np.zeros(len(symbols), dtype=bool)
    random_rows[special_rows + missing_rows] = True
    word_rows_all = [i for i, s in enumerate(symbols) if not is_special(s)]
    if special_rows and word_rows_all:
        coverage.max_special_word_cosine = float((table[special_rows] @ table[word_rows_all].T).max())
    return TargetEmbeddingTable(list(symbols), table, mean, random_rows, random_mix, seed), coverage


def write_coverage(path: Path, coverage: Coverage, extra: Dict) -> None:
    """Store the coverage counts (and how the table was made) as JSON beside the table."""
    record = {
        "own": coverage.own,
        "composed": coverage.composed,
        "missing": coverage.missing,
        "special": coverage.special,
        "words": coverage.words,
        "max_special_word_cosine": coverage.max_special_word_cosine,
        "missing_examples": coverage.missing_examples,
        **extra,
    }
    Path(path).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_coverage(path: Path) -> Coverage:
    """The counts stored by :func:`write_coverage`."""
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    return Coverage(
        own=record["own"],
        composed=record["composed"],
        missing=record["missing"],
        special=record["special"],
        missing_examples=record["missing_examples"],
        max_special_word_cosine=record["max_special_word_cosine"],
    )
