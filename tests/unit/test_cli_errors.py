"""Bad input to the commands: exit status 2 and one line naming the file or flag, no traceback."""

import numpy as np
import pytest
from fairseq.data import Dictionary

from tests.helpers import command, run


def assert_one_line_error(result, prog, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith(f"{prog}: error:")]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in error_lines[0], error_lines[0]


def make_raw(folder, sizes):
    folder.mkdir()
    for stem in ("train", "val", "test_2016_flickr"):
        for lang, count in sizes.get(stem, {"en": 2, "fr": 2}).items():
            (folder / f"{stem}.{lang}").write_text("".join(f"line {i}\n" for i in range(count)))
    return folder


def prepare(tmp_path, *args):
    return run([command("fairseq-vmf-prepare"), "--out", str(tmp_path / "out"), *args])


def test_unsupported_language(tmp_path):
    result = prepare(tmp_path, "--src", "en", "--tgt", "cs")
    assert_one_line_error(result, "fairseq-vmf-prepare", "--tgt 'cs': unsupported language code")


def test_missing_data_file(tmp_path):
    raw = make_raw(tmp_path / "raw", {})
    (raw / "val.fr").unlink()
    result = prepare(tmp_path, "--src", "en", "--tgt", "fr", "--raw-dir", str(raw))
    assert_one_line_error(result, "fairseq-vmf-prepare", "val.fr.gz: data file not found")


def test_empty_data_file(tmp_path):
    raw = make_raw(tmp_path / "raw", {"train": {"en": 0, "fr": 0}})
    result = prepare(tmp_path, "--src", "en", "--tgt", "fr", "--raw-dir", str(raw))
    assert_one_line_error(result, "fairseq-vmf-prepare", "train.en: data file is empty")


def test_mismatched_line_counts(tmp_path):
    raw = make_raw(tmp_path / "raw", {"val": {"en": 3, "fr": 2}})
    result = prepare(tmp_path, "--src", "en", "--tgt", "fr", "--raw-dir", str(raw))
    assert_one_line_error(result, "fairseq-vmf-prepare", "val.en has 3 lines but", "val.fr has 2")
    assert not (tmp_path / "out" / "bin").exists()


@pytest.fixture
def dict_file(tmp_path):
    dictionary = Dictionary()
    for word in ("chat", "chien"):
        dictionary.add_symbol(word)
    path = tmp_path / "dict.fr.txt"
    dictionary.save(str(path))
    return path


def embed(tmp_path, dict_file, vectors, *args):
    return run([
        command("fairseq-vmf-embed"), "--dict", str(dict_file), "--lang", "fr",
        "--out-dir", str(tmp_path / "emb"), "--vectors", str(vectors), *args,
    ])


def test_ragged_vec_file(tmp_path, dict_file):
    vec = tmp_path / "ragged.vec"
    vec.write_text("2 3\nchat 1 0 0\nchien 0 1\n")
    result = embed(tmp_path, dict_file, vec, "--dim", "3")
    assert_one_line_error(result, "fairseq-vmf-embed", "ragged.vec: line 3 has 2 values, the header says 3")


def test_vec_without_header_is_read_glove_style(tmp_path, dict_file):
    body = "chat 1 0 0\nchien 0 1 0\n"
    tables = []
    for name, text in (("noheader.txt", body), ("header.vec", "2 3\n" + body)):
        vec = tmp_path / name
        vec.write_text(text)
        out = tmp_path / name.replace(".", "_")
        result = embed(tmp_path, dict_file, vec, "--dim", "3", "--out-dir", str(out))
        assert result.returncode == 0, result.stderr
        tables.append(np.load(next(out.glob("*.npz")))["vectors"])
    np.testing.assert_array_equal(tables[0], tables[1])


def test_dimension_not_the_one_asked_for(tmp_path, dict_file):
    vec = tmp_path / "small.vec"
    vec.write_text("2 3\nchat 1 0 0\nchien 0 1 0\n")
    result = embed(tmp_path, dict_file, vec, "--dim", "300")
    assert_one_line_error(result, "fairseq-vmf-embed", "small.vec: vectors have dimension 3 but --dim 300")


def test_user_vectors_without_dim_keep_their_own_size(tmp_path, dict_file):
    vec = tmp_path / "small.vec"
    vec.write_text("2 3\nchat 1 0 0\nchien 0 1 0\n")
    result = embed(tmp_path, dict_file, vec)  # no --dim: the file's 3, not fastText's default 300
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / "emb" / "small.fr.npz")["vectors"].shape[1] == 3


def test_user_vectors_make_a_table(tmp_path, dict_file):
    vec = tmp_path / "mine.vec"
    vec.write_text("2 3\nchat 1 0 0\nchien 0 2 0\n")
    result = embed(tmp_path, dict_file, vec, "--dim", "3")
    assert result.returncode == 0, result.stderr
    assert "coverage: 2 words: 2 own vector (100.0%)" in result.stdout
    assert (tmp_path / "emb" / "mine.fr.npz").is_file()
    assert (tmp_path / "emb" / "mine.fr.coverage.json").is_file()


def test_embed_needs_a_dictionary(tmp_path):
    result = run([command("fairseq-vmf-embed"), "--lang", "fr"])
    assert_one_line_error(result, "fairseq-vmf-embed", "give --data, or both --dict and --out-dir")


def test_detok_unknown_language():
    result = run([command("fairseq-vmf-detok"), "--lang", "xx"], input="a b\n")
    assert_one_line_error(result, "fairseq-vmf-detok", "--lang 'xx'")


def test_bad_config_key(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("src: en\ntgt: fr\nvocab_sise: 3\n")
    result = run([command("fairseq-vmf-prepare"), "--config", str(config)])
    assert_one_line_error(result, "fairseq-vmf-prepare", "unknown option(s) vocab_sise")


def test_random_mix_outside_zero_one(tmp_path, dict_file):
    vec = tmp_path / "v.vec"
    vec.write_text("2 3\nchat 1 0 0\nchien 0 1 0\n")
    result = embed(tmp_path, dict_file, vec, "--dim", "3", "--random-mix", "1.5")
    assert_one_line_error(result, "fairseq-vmf-embed", "--random-mix 1.5: must be in [0, 1)")
    assert not (tmp_path / "emb").exists() or not any((tmp_path / "emb").iterdir())
