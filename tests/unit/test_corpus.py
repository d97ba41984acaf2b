import gzip

import pytest

from fairseq_vmf_text.corpus import check_language_pair, find_raw_file, read_lines, read_parallel
from fairseq_vmf.errors import InputError


def write(path, text, gz=False):
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("src,tgt", [("en", "fr"), ("fr", "de"), ("de", "en")])
def test_supported_pairs_pass(src, tgt):
    check_language_pair(src, tgt)


@pytest.mark.parametrize("src,tgt,flag", [("en", "cs", "--tgt"), ("xx", "fr", "--src"), ("EN", "fr", "--src")])
def test_unsupported_language_is_named(src, tgt, flag):
    with pytest.raises(InputError, match=f"{flag} .*unsupported language code"):
        check_language_pair(src, tgt)


def test_same_language_twice_is_refused():
    with pytest.raises(InputError, match="both 'fr'"):
        check_language_pair("fr", "fr")


def test_gzipped_and_plain_files_are_found_and_read(tmp_path):
    write(tmp_path / "train.en.gz", "a b\nc\n", gz=True)
    write(tmp_path / "train.fr", "x\ny z\n")
    assert read_lines(find_raw_file(tmp_path, "train", "en")) == ["a b", "c"]
    assert read_parallel(tmp_path, "train", "en", "fr") == (["a b", "c"], ["x", "y z"])


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(InputError, match=r"val\.de\.gz: data file not found"):
        find_raw_file(tmp_path, "val", "de")


def test_missing_folder_names_the_flag(tmp_path):
    with pytest.raises(InputError, match="corpus folder not found.*--raw-dir"):
        find_raw_file(tmp_path / "nope", "train", "en")


def test_empty_file_is_refused(tmp_path):
    path = write(tmp_path / "train.en", "\n  \n")
    with pytest.raises(InputError, match=f"{path}: data file is empty"):
        read_lines(path)


def test_mismatched_line_counts_name_both_files(tmp_path):
    write(tmp_path / "train.en", "a\nb\nc\n")
    write(tmp_path / "train.fr", "x\ny\n")
    with pytest.raises(InputError, match=r"train\.en has 3 lines but .*train\.fr has 2"):
        read_parallel(tmp_path, "train", "en", "fr")


def test_invalid_utf8_is_reported(tmp_path):
    path = tmp_path / "train.de"
    path.write_bytes(b"gut\n\xff\xfe\n")
    with pytest.raises(InputError, match="not valid UTF-8"):
        read_lines(path)


def test_corrupt_gzip_is_reported(tmp_path):
    path = tmp_path / "train.de.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(InputError, match="cannot be read"):
        read_lines(path)
