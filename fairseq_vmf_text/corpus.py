"""Raw parallel corpora on disk: finding, reading and checking them.

A corpus folder holds one file per split and language, ``{split}.{lang}`` or
``{split}.{lang}.gz`` (Multi30k ships gzipped), one sentence per line, line *i*
aligned across languages.
"""

import gzip
from pathlib import Path
from typing import List, Optional, Tuple

from .errors import InputError

SUPPORTED_LANGUAGES = ("en", "de", "fr")

# fairseq split name -> Multi30k file stem. Scores are reported on test_2016_flickr;
# val is for tuning and model selection.
MULTI30K_SPLITS = {"train": "train", "valid": "val", "test": "test_2016_flickr"}


def check_language_pair(src: str, tgt: str) -> None:
    """Fail with a clear message unless ``src`` and ``tgt`` are two different supported codes."""
    for flag, lang in (("--src", src), ("--tgt", tgt)):
        if lang not in SUPPORTED_LANGUAGES:
            raise InputError(
                f"{flag} {lang!r}: unsupported language code; "
                f"choose one of {', '.join(SUPPORTED_LANGUAGES)}"
            )
    if src == tgt:
        raise InputError(f"--src and --tgt are both {src!r}: a translation pair needs two languages")


def find_raw_file(raw_dir: Path, stem: str, lang: str) -> Path:
    """The file for split ``stem`` and language ``lang`` in ``raw_dir``, plain or gzipped."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise InputError(f"{raw_dir}: corpus folder not found (pass --raw-dir)")
    candidates = [raw_dir / f"{stem}.{lang}", raw_dir / f"{stem}.{lang}.gz"]
    for path in candidates:
        if path.is_file():
            return path
    raise InputError(f"{candidates[1]}: data file not found (nor {candidates[0].name})")


def read_lines(path: Path, max_lines: Optional[int] = None) -> List[str]:
    """The lines of a UTF-8 text file (gzipped if it ends in ``.gz``), without newlines.

    Raises:
        InputError: the file is missing, is not valid UTF-8 / gzip, or is empty.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    lines: List[str] = []
    try:
        with opener(path, "rt", encoding="utf-8", newline="\n") as handle:
            for line in handle:
                lines.append(line.rstrip("\n").rstrip("\r"))
                if max_lines is not None and len(lines) >= max_lines:
                    break
    except FileNotFoundError:
        raise InputError(f"{path}: data file not found") from None
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not valid UTF-8 text ({err.reason} at byte {err.start})") from None
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise InputError(f"{path}: cannot be read ({err})") from None
    if not any(line.strip() for line in lines):
        raise InputError(f"{path}: data file is empty")
    return lines


def read_parallel(
    raw_dir: Path, stem: str, src: str, tgt: str, max_lines: Optional[int] = None
) -> Tuple[List[str], List[str]]:
    """Both sides of one split, checked to have the same number of lines."""
    src_path = find_raw_file(raw_dir, stem, src)
    tgt_path = find_raw_file(raw_dir, stem, tgt)
    src_lines = read_lines(src_path, max_lines)
    tgt_lines = read_lines(tgt_path, max_lines)
    if len(src_lines) != len(tgt_lines):
        raise InputError(
            f"{src_path} has {len(src_lines)} lines but {tgt_path} has {len(tgt_lines)}: "
            "a parallel corpus needs the same number of lines on both sides"
        )
    return src_lines, tgt_lines


def write_lines(path: Path, lines: List[str]) -> None:
    """Write one line per item, UTF-8, LF endings."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(line + "\n")


def read_text(path: Path, what: str) -> str:
    """The whole UTF-8 text of ``path``; a missing file or bad bytes name the file and ``what`` it is."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} not found")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not valid UTF-8 text ({err.reason} at byte {err.start})") from None
