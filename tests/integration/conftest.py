"""Integration fixtures: a small prepared en-fr pair, shared by the whole session."""

import pytest

from tests.helpers import SMALL_FASTTEXT, command, prepare, run


@pytest.fixture(scope="session")
def prepared(small_raw_dir, tmp_path_factory):
    """400 training lines of en-fr: SentencePiece source, word target, 16-d fastText table."""
    out = tmp_path_factory.mktemp("prepared") / "en-fr"
    result = prepare(small_raw_dir, out)
    assert result.returncode == 0, result.stderr
    result = run([command("fairseq-vmf-embed"), "--data", str(out), *SMALL_FASTTEXT])
    assert result.returncode == 0, result.stderr
    return out
