"""Word vectors from fastText: training them, and reading a user's ``.bin`` or ``.vec``.

Both sources answer one question per dictionary word, :meth:`lookup`: the word's own
vector, a vector composed from its character n-grams (``.bin`` models trained with
subwords only), or nothing.
"""

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from ..errors import InputError

logger = logging.getLogger(__name__)

OWN, COMPOSED, MISSING = "own", "composed", "missing"


@dataclass
class FastTextSettings:
    """fastText training settings; defaults follow the paper's 300-d skip-gram vectors."""

    dim: int = 300
    subwords: bool = True  # False: the "word2vec" variant, whole words only
    epoch: int = 5
    min_count: int = 1  # every training word gets a vector
    minn: int = 3
    maxn: int = 6
    # fastText's default of 2,000,000 hashed n-gram rows makes a 2.4 GB model at
    # 300-d; a few hundred thousand are plenty for a corpus the size of Multi30k.
    bucket: int = 200_000
    lr: float = 0.05
    window: int = 5
    negatives: int = 5
    # fastText 0.9.3's Python API takes no seed: its random streams are seeded by
    # thread index, so one thread makes training deterministic.
    threads: int = 1


def train_fasttext(text_file: Path, out_bin: Path, settings: FastTextSettings) -> Path:
    """Train skip-gram vectors on ``text_file`` (tokens split on spaces); save a ``.bin``."""
    import fasttext

    if not Path(text_file).is_file() or Path(text_file).stat().st_size == 0:
        raise InputError(f"{text_file}: training text for fastText is missing or empty")
    kwargs = dict(
        model="skipgram",
        dim=settings.dim,
        epoch=settings.epoch,
        minCount=settings.min_count,
        minn=settings.minn if settings.subwords else 0,
        maxn=settings.maxn if settings.subwords else 0,
        bucket=settings.bucket if settings.subwords else 0,
        lr=settings.lr,
        ws=settings.window,
        neg=settings.negatives,
        thread=settings.threads,
        verbose=0,
    )
    try:
        model = fasttext.train_unsupervised(str(text_file), **kwargs)
    except RuntimeError as err:
        # fastText aborts with "Encountered NaN." when training diverges.
        raise InputError(f"{text_file}: fastText training failed ({err}); try a lower --lr") from None
    out_bin = Path(out_bin)
    out_bin.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(out_bin))
    return out_bin


class FastTextBinVectors:
    """A fastText ``.bin`` model: own vectors, and n-gram vectors for other words."""

    def __init__(self, path: Path):
        import fasttext

        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: vectors file not found")
        try:
            self.model = fasttext.load_model(str(path))
        except ValueError as err:
            raise InputError(f"{path}: not a fastText .bin model ({err})") from None
        self.path = path
        self.dim = self.model.get_dimension()
        self.has_subwords = self.model.f.getArgs().maxn > 0

    def lookup(self, word: str) -> Tuple[Optional[np.ndarray], str]:
        if self.model.get_word_id(word) >= 0:
            return self.model.get_word_vector(word), OWN
        if self.has_subwords:
            vector = self.model.get_word_vector(word)
            if np.any(vector != 0):
                return vector, COMPOSED
        return None, MISSING


class TextVectors:
    """Vectors from a ``.vec`` text file, kept only for the words asked for."""

    def __init__(self, path: Path, wanted: Iterable[str]):
        self.path = Path(path)
        self.dim, self.vectors = read_vec_file(self.path, None if wanted is None else set(wanted))

    def lookup(self, word: str) -> Tuple[Optional[np.ndarray], str]:
        vector = self.vectors.get(word)
        return (vector, OWN) if vector is not None else (None, MISSING)


def read_vec_file(path: Path, wanted: Optional[set] = None) -> Tuple[int, Dict[str, np.ndarray]]:
    """Parse a word2vec/fastText text file: an ``N d`` header, then ``word v1 .. vd`` lines.
    GloVe's headerless files are read too: line 1 is then a vector and sets d.

    Every line is checked (header, column count, numbers), but only vectors of words
    in ``wanted`` (all words when None) are kept, so a multi-GB file costs little memory.

    Raises:
        InputError: naming the file and line for a bad header, a ragged or non-numeric
            row, a row count that disagrees with the header, or a non-finite value.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: vectors file not found")
    try:
        return _read_vec_lines(path, wanted)
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not valid UTF-8 text ({err.reason} at byte {err.start})") from None


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _read_vec_lines(path: Path, wanted: Optional[set]) -> Tuple[int, Dict[str, np.ndarray]]:
    vectors: Dict[str, np.ndarray] = {}
    seen: Dict[str, int] = {}
    with open(path, encoding="utf-8", errors="strict") as handle:
        first = handle.readline()
        header = first.split()
        if len(header) == 2 and all(field.isdigit() for field in header):
            count, dim = int(header[0]), int(header[1])
            pending = []
            if dim <= 0:
                raise InputError(f"{path}: header gives dimension {dim}")
        else:  # GloVe writes no header: then line 1 is already a vector, and it sets the dimension
            fields = first.rstrip("\n").rstrip(" ").split(" ")
            if len(fields) < 2 or not all(_is_number(field) for field in fields[1:]):
                raise InputError(
                    f"{path}: line 1 must be the header '<number of words> <dimension>' or, in a "
                    f"headerless (GloVe-style) file, a 'word v1 .. vd' line; got {first.strip()[:60]!r}"
                )
            count, dim = None, len(fields) - 1
            pending = [(1, first)]
        rows = 0
        for lineno, line in itertools.chain(pending, enumerate(handle, start=2)):
            # Split on ASCII spaces only: a word may contain other whitespace characters.
            fields = line.rstrip("\n").rstrip(" ").split(" ")
            if fields == [""]:
                continue
            if len(fields) != dim + 1:
                said = "the header says" if count is not None else "line 1 has"
                raise InputError(
                    f"{path}: line {lineno} has {len(fields) - 1} values, {said} {dim} (ragged row)"
                )
            rows += 1
            word = fields[0]
            if word in seen:  # a vectors file lists each word once: a repeat means a broken file
                raise InputError(f"{path}: line {lineno} repeats the word {word!r} of line {seen[word]}")
            seen[word] = lineno
            if wanted is None or word in wanted:
                try:
                    vector = np.asarray(fields[1:], dtype=np.float32)
                except ValueError:
                    raise InputError(f"{path}: line {lineno} has a value that is not a number") from None
                if not np.all(np.isfinite(vector)):
                    raise InputError(f"{path}: line {lineno} has a non-finite value")
                vectors[word] = vector
    if count is not None and rows != count:
        raise InputError(f"{path}: header says {count} words but the file has {rows} vector lines")
    return dim, vectors


class RandomVectors:
    """No vectors at all: ``build_target_table`` gives every word a seeded random unit row
    (its policy for missing words), so the coverage report counts them as missing."""

    def __init__(self, dim: int):
        self.dim = dim

    def lookup(self, word: str) -> Tuple[Optional[np.ndarray], str]:
        return None, MISSING


# Where fairseq softmax models keep their output embedding matrix (tied or not).
OUTPUT_EMBEDDING_KEYS = ("decoder.output_projection.weight", "decoder.embed_out", "decoder.embed_tokens.weight")


class CheckpointVectors:
    """The output embeddings of a trained fairseq softmax model (row i = target symbol i).

    Tokarchuk & Niculae (2022) report that these transfer better as continuous-output
    targets than fastText vectors. The checkpoint must have been trained with the same
    target dictionary as the table is built for: its rows are matched by index.
    """

    def __init__(self, path: Path, symbols: Iterable[str]):
        import torch  # importing fairseq_vmf allow-lists fairseq checkpoints for torch.load

        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: checkpoint not found")
        try:
            state = torch.load(self.path, map_location="cpu")
        except Exception as err:  # torch raises many kinds for a bad file
            raise InputError(f"{self.path}: not a readable fairseq checkpoint ({type(err).__name__})") from None
        model = state.get("model", {}) if isinstance(state, dict) else {}
        key = next((k for k in OUTPUT_EMBEDDING_KEYS if k in model), None)
        if key is None:
            raise InputError(
                f"{self.path}: no output embedding matrix in this checkpoint (looked for "
                f"{', '.join(OUTPUT_EMBEDDING_KEYS)}): give a softmax model's checkpoint"
            )
        weight = model[key].float().numpy()
        symbols = list(symbols)
        if weight.shape[0] != len(symbols):
            raise InputError(
                f"{self.path}: its output embeddings have {weight.shape[0]} rows but the target "
                f"dictionary has {len(symbols)} symbols: train the softmax model on the same data folder"
            )
        self.dim = int(weight.shape[1])
        self.rows = {symbol: weight[i] for i, symbol in enumerate(symbols)}

    def lookup(self, word: str) -> Tuple[Optional[np.ndarray], str]:
        vector = self.rows.get(word)
        return (vector, OWN) if vector is not None else (None, MISSING)


def load_vectors(path: Path, wanted: Iterable[str], expected_dim: Optional[int] = None):
    """Open vectors by extension: ``.bin`` (fastText), ``.vec``/``.txt`` (text) or ``.pt``
    (a fairseq softmax checkpoint's output embeddings, rows matched to ``wanted`` by index)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".bin":
        vectors = FastTextBinVectors(path)
    elif suffix in (".vec", ".txt"):
        vectors = TextVectors(path, wanted)
    elif suffix == ".pt":
        vectors = CheckpointVectors(path, wanted)
    else:
        raise InputError(
            f"{path}: unknown vectors format {suffix!r}; give a fastText .bin, a text .vec "
            f"or a fairseq softmax checkpoint .pt"
        )
    if expected_dim is not None and vectors.dim != expected_dim:
        raise InputError(
            f"{path}: vectors have dimension {vectors.dim} but --dim {expected_dim} was asked for"
        )
    return vectors
