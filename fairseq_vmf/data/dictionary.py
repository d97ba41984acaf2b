"""fairseq dictionaries, checked before fairseq reads them."""

from pathlib import Path

from fairseq_vmf_text.corpus import read_text

from ..errors import InputError


def read_dictionary(path: Path):
    """A fairseq ``Dictionary`` from ``path``, checked first so that a wrong file gets a
    message naming it and the line (fairseq's own loader raises from deep inside)."""
    from fairseq.data import Dictionary

    path = Path(path)
    lines = read_text(path, "dictionary").splitlines()
    if not any(line.strip() for line in lines):
        raise InputError(f"{path}: dictionary is empty")
    for lineno, line in enumerate(lines, start=1):
        fields = line.rstrip().rsplit(" ", 2)
        if fields[-1] == "#fairseq:overwrite":
            fields = fields[:-1]
        if len(fields) < 2 or not fields[-1].lstrip("-").isdigit():
            raise InputError(f"{path}: not a fairseq dictionary (line {lineno}: expected '<symbol> <count>', "
                             f"got {line[:40]!r})")
    return Dictionary.load(str(path))
