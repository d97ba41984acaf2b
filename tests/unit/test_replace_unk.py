"""scripts/replace_unk.py: <unk> replaced by the aligned source word, checked by hand."""

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("replace_unk", REPO / "scripts" / "replace_unk.py")
replace_unk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(replace_unk)

# two sentences, printed out of order as fairseq-generate does; A- pairs are source-target
LOG = """S-1\tTwo dogs play .
H-1\t-0.41\tDeux <unk> jouent .
A-1\t0-0 1-1 2-2 3-3
S-0\tA man near an igloo .
H-0\t-0.30\tUn homme près d' un <unk> <unk> .
A-0\t0-0 1-1 2-2 3-3 3-4 4-5 4-6 5-7
"""


def test_each_unk_takes_the_source_word_at_its_aligned_position(tmp_path, capsys):
    (tmp_path / "gen.log").write_text(LOG)
    (tmp_path / "test.en").write_text("A man near an igloo .\nTwo dogs play .\n")
    replace_unk.main(["--generate-log", str(tmp_path / "gen.log"), "--source", str(tmp_path / "test.en")])
    assert capsys.readouterr().out == "Un homme près d' un igloo igloo .\nDeux dogs jouent .\n"


def test_an_unaligned_unk_is_kept():
    assert replace_unk.replace(["a", "<unk>", "<unk>"], {0: 0, 2: 1}, ["x", "y"]) == ["a", "<unk>", "y"]


def test_a_log_without_alignments_is_refused(tmp_path):
    (tmp_path / "gen.log").write_text("H-0\t-0.3\tUn <unk> .\n")
    with pytest.raises(SystemExit, match="no A- line for sentence 0.*--print-alignment hard"):
        replace_unk.read_generate_log(tmp_path / "gen.log")


def test_a_source_file_too_short_is_refused(tmp_path):
    (tmp_path / "gen.log").write_text(LOG)
    (tmp_path / "test.en").write_text("A man near an igloo .\n")
    with pytest.raises(SystemExit, match="sentence 1 .* beyond the 1 lines of .*test.en"):
        replace_unk.main(["--generate-log", str(tmp_path / "gen.log"), "--source", str(tmp_path / "test.en")])
