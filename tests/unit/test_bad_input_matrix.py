"""Bad input as a matrix (input class x command), run in-process.

Each case builds a working folder with good files, breaks one thing, runs the command's
``main`` and asserts: an ``InputError`` whose one-line message names the file or flag and
says what is wrong (the console scripts print exactly that line, exit status 2), and that
no file that existed before the command changed. ``tests/integration/test_bad_input_commands.py``
runs the fairseq commands and the shell recipes the same way as subprocesses.
"""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from fairseq.data import Dictionary

import fairseq_vmf  # noqa: F401  (registers the task)
from fairseq_vmf.cli import build_embeddings, prepare_data
from fairseq_vmf.embeddings.target_table import TargetEmbeddingTable, build_target_table
from fairseq_vmf.embeddings.vectors import RandomVectors
from fairseq_vmf.errors import InputError
from fairseq_vmf.tasks.translation_vmf import TranslationVmfConfig, TranslationVmfTask

SENTENCES = {
    "en": ["A man rides a bike .", "Two dogs play in the snow .", "A girl reads a book ."],
    "fr": ["Un homme fait du vélo .", "Deux chiens jouent dans la neige .", "Une fille lit un livre ."],
}
STEMS = ("train", "val", "test_2016_flickr")


def snapshot(folder: Path):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


def expect_error(folder: Path, call, *fragments):
    """Run ``call``; it must raise InputError naming all ``fragments`` and change no file."""
    before = snapshot(folder)
    with pytest.raises(InputError) as raised:
        call()
    message = str(raised.value)
    assert "\n" not in message.strip(), message  # one line: the console scripts print it as is
    for fragment in fragments:
        assert fragment in message, message
    after = snapshot(folder)
    assert {name: after.get(name) for name in before} == before, "a file the user had changed"
    return message


# ---------------------------------------------------------------- fairseq-vmf-prepare

def write_corpus(raw: Path, lines=30):
    raw.mkdir(parents=True, exist_ok=True)
    for stem in STEMS:
        for lang, sentences in SENTENCES.items():
            text = "".join(sentences[i % 3] + "\n" for i in range(lines))
            (raw / f"{stem}.{lang}").write_text(text, encoding="utf-8")
    return raw


def prepare(raw: Path, out: Path, *extra):
    return lambda: prepare_data.main(["--src", "en", "--tgt", "fr", "--raw-dir", str(raw), "--out", str(out),
                                      "--src-seg", "words", *extra])


LONG_LINE = " ".join(["mot"] * 10_000) + "\n"
BREAKS = {  # input class -> (how the file is broken, what the message says)
    "empty": (lambda p: p.write_bytes(b""), "data file is empty"),
    "binary_garbage": (lambda p: p.write_bytes(bytes(range(256)) * 8), "not valid UTF-8"),
    "invalid_utf8": (lambda p: p.write_bytes(p.read_bytes().replace("homme".encode(), b"h\xffmme")
                                             .replace(b"man", b"m\xe9n")), "not valid UTF-8"),
    "long_line": (lambda p: p.write_text(p.read_text(encoding="utf-8") + LONG_LINE, encoding="utf-8"),
                  "10000 words"),
    "truncated_gzip": (None, "cannot be read"),
}
FILES = [("train", "en"), ("train", "fr"), ("val", "en"), ("test_2016_flickr", "fr")]


@pytest.mark.parametrize("stem, lang", FILES)
@pytest.mark.parametrize("kind", sorted(BREAKS))
def test_prepare_refuses_a_broken_corpus_file(tmp_path, kind, stem, lang):
    raw = write_corpus(tmp_path / "raw")
    target = raw / f"{stem}.{lang}"
    if kind == "truncated_gzip":
        data = gzip.compress(target.read_bytes())
        target.unlink()
        target = raw / f"{stem}.{lang}.gz"
        target.write_bytes(data[: len(data) // 2])
    elif kind == "long_line":  # the other side gets a line too, so the counts still agree
        BREAKS[kind][0](target)
        other = raw / f"{stem}.{'fr' if lang == 'en' else 'en'}"
        other.write_text(other.read_text(encoding="utf-8") + "court\n", encoding="utf-8")
    else:
        BREAKS[kind][0](target)
    expect_error(tmp_path, prepare(raw, tmp_path / "out"), target.name, BREAKS[kind][1])


@pytest.mark.parametrize("stem", STEMS)
def test_prepare_refuses_mismatched_line_counts(tmp_path, stem):
    raw = write_corpus(tmp_path / "raw")
    (raw / f"{stem}.fr").write_text("Un chat .\n" * 29, encoding="utf-8")
    expect_error(tmp_path, prepare(raw, tmp_path / "out"), f"{stem}.en has 30 lines", f"{stem}.fr has 29")


@pytest.mark.parametrize("flags, named", [
    (["--src", "xx"], "--src 'xx': unsupported language code"),
    (["--tgt", "klingon"], "--tgt 'klingon': unsupported language code"),
    (["--tgt", "en"], "--src and --tgt are both 'en'"),
])
def test_prepare_refuses_a_bad_language_code(tmp_path, flags, named):
    raw = write_corpus(tmp_path / "raw")
    expect_error(tmp_path, prepare(raw, tmp_path / "out", *flags), named)


@pytest.mark.parametrize("inside", [".", "prepared"])
def test_prepare_refuses_an_output_folder_inside_the_corpus_folder(tmp_path, inside):
    raw = write_corpus(tmp_path / "raw")
    expect_error(tmp_path, prepare(raw, raw / inside), "--out", "inside the corpus folder")


def test_prepare_reads_crlf_files_as_lines(tmp_path):
    raw = write_corpus(tmp_path / "raw", lines=40)
    for path in raw.iterdir():
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    out = tmp_path / "out"
    prepare(raw, out)()
    for path in (out / "raw").iterdir():
        assert b"\r" not in path.read_bytes() and len(path.read_text(encoding="utf-8").splitlines()) == 40


# ---------------------------------------------------------------- fairseq-vmf-embed

def write_dictionary(path: Path, words=("chat", "chien", "maison")):
    dictionary = Dictionary()
    for word in words:
        dictionary.add_symbol(word)
    dictionary.save(str(path))
    return path


def embed(folder: Path, vectors: Path, dim=3, dictionary=None):
    dictionary = dictionary or folder / "dict.fr.txt"
    return lambda: build_embeddings.main(["--dict", str(dictionary), "--lang", "fr", "--out-dir",
                                          str(folder / "emb"), "--vectors", str(vectors), "--dim", str(dim)])


GOOD_VEC = "3 3\nchat 1 0 0\nchien 0 1 0\nmaison 0 0 1\n"
VEC_BREAKS = {  # .vec content -> what the message says
    "nan_value": ("3 3\nchat 1 0 0\nchien nan 1 0\nmaison 0 0 1\n", "line 3 has a non-finite value"),
    "inf_value": ("3 3\nchat 1 0 0\nchien 0 1 0\nmaison 0 -inf 1\n", "line 4 has a non-finite value"),
    "duplicate_word": ("3 3\nchat 1 0 0\nchien 0 1 0\nchat 0 0 1\n", "line 4 repeats the word 'chat'"),
    "header_too_many_words": ("5 3\nchat 1 0 0\nchien 0 1 0\nmaison 0 0 1\n", "header says 5 words but the file has 3"),
    "header_too_few_words": ("2 3\nchat 1 0 0\nchien 0 1 0\nmaison 0 0 1\n", "header says 2 words but the file has 3"),
    "header_wrong_dimension": ("3 4\nchat 1 0 0\nchien 0 1 0\nmaison 0 0 1\n", "line 2 has 3 values, the header says 4"),
    "header_not_numbers": ("three 3 x\nchat 1 0 0\n", "line 1 must be the header"),
    "headerless_ragged": ("chat 1 0 0\nchien 0 1\n", "line 2 has 2 values, line 1 has 3"),
    "ragged_row": ("3 3\nchat 1 0 0\nchien 0 1\nmaison 0 0 1\n", "line 3 has 2 values"),
    "not_a_number": ("3 3\nchat 1 0 0\nchien 0 un 0\nmaison 0 0 1\n", "line 3 has a value that is not a number"),
    "empty": ("", "line 1 must be the header"),
    "binary_garbage": (bytes(range(256)) * 4, "not valid UTF-8"),
    "invalid_utf8": (GOOD_VEC.encode().replace(b"chien", b"chi\xe8n"), "not valid UTF-8"),
}


@pytest.mark.parametrize("kind", sorted(VEC_BREAKS))
def test_embed_refuses_a_broken_vec_file(tmp_path, kind):
    write_dictionary(tmp_path / "dict.fr.txt")
    content, named = VEC_BREAKS[kind]
    vec = tmp_path / "vectors.vec"
    vec.write_bytes(content if isinstance(content, bytes) else content.encode())
    expect_error(tmp_path, embed(tmp_path, vec, dim=4 if kind == "header_wrong_dimension" else 3), "vectors.vec", named)


def test_embed_reads_crlf_vec_files(tmp_path):
    write_dictionary(tmp_path / "dict.fr.txt")
    vec = tmp_path / "vectors.vec"
    vec.write_bytes(GOOD_VEC.replace("\n", "\r\n").encode())
    embed(tmp_path, vec)()
    table = TargetEmbeddingTable.load(tmp_path / "emb" / "vectors.fr.npz")
    assert table.vectors.shape == (len(Dictionary.load(str(tmp_path / "dict.fr.txt"))), 3)


@pytest.mark.parametrize("kind, content, named", [
    ("empty", b"", "dictionary is empty"),
    ("no_counts", b"chat\nchien\n", "not a fairseq dictionary (line 1"),
    ("binary_garbage", bytes(range(256)) * 4, "not valid UTF-8"),
])
def test_embed_refuses_a_broken_dictionary(tmp_path, kind, content, named):
    (tmp_path / "dict.fr.txt").write_bytes(content)
    vec = tmp_path / "vectors.vec"
    vec.write_text(GOOD_VEC)
    expect_error(tmp_path, embed(tmp_path, vec), "dict.fr.txt", named)


@pytest.mark.parametrize("suffix, named", [(".bin", "not a fastText .bin model"),
                                           (".pt", "not a readable fairseq checkpoint")])
def test_embed_refuses_a_garbage_model_file(tmp_path, suffix, named):
    write_dictionary(tmp_path / "dict.fr.txt")
    model = tmp_path / f"vectors{suffix}"
    model.write_bytes(os.urandom(4096))
    expect_error(tmp_path, embed(tmp_path, model), f"vectors{suffix}", named)


# ---------------------------------------------------------------- the translation_vmf task

def task_with_table(folder: Path, table_path: Path):
    dictionary = Dictionary.load(str(write_dictionary(folder / "dict.fr.txt")))
    cfg = TranslationVmfConfig(data=str(folder), target_embeddings=str(table_path))
    return lambda: TranslationVmfTask(cfg, dictionary, dictionary)


def good_table(folder: Path, words=("chat", "chien", "maison")):
    dictionary = Dictionary()
    for word in words:
        dictionary.add_symbol(word)
    table, _ = build_target_table(dictionary.symbols, RandomVectors(8))
    return table


def write_npz(path: Path, **arrays):
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path


TABLE_BREAKS = {  # how the table file is broken -> what the message says
    "nan_row": (lambda t, p: write_npz(p, vectors=np.where(np.arange(len(t.symbols))[:, None] == 5, np.nan, t.vectors)
                                          .astype(np.float32), symbols=np.array(t.symbols)), "row 5"),
    "wrong_row_count": (lambda t, p: write_npz(p, vectors=t.vectors[:-1], symbols=np.array(t.symbols[:-1])),
                        "rows"),
    "other_dictionary": (lambda t, p: good_table(p.parent, ("chat", "chien", "arbre")).save(p), "'arbre'"),
    "garbage_file": (lambda t, p: p.write_bytes(os.urandom(2048)), "not a target embedding table"),
    "empty_file": (lambda t, p: p.write_bytes(b""), "not a target embedding table"),
    "missing_symbols": (lambda t, p: write_npz(p, vectors=t.vectors), "not a target embedding table"),
    "not_unit_rows": (lambda t, p: write_npz(p, vectors=t.vectors * 3, symbols=np.array(t.symbols)), "unit"),
}


@pytest.mark.parametrize("kind", sorted(TABLE_BREAKS))
def test_task_refuses_a_broken_table(tmp_path, kind):
    path = tmp_path / "table.npz"
    TABLE_BREAKS[kind][0](good_table(tmp_path), path)
    expect_error(tmp_path, task_with_table(tmp_path, path), "--target-embeddings", "table.npz", TABLE_BREAKS[kind][1])


def test_task_refuses_a_missing_table(tmp_path):
    expect_error(tmp_path, task_with_table(tmp_path, tmp_path / "nowhere.npz"), "nowhere.npz", "not found")


def test_task_accepts_the_good_table(tmp_path):
    path = tmp_path / "table.npz"
    good_table(tmp_path).save(path)
    task = task_with_table(tmp_path, path)()
    assert torch.is_tensor(task.target_embeddings) and task.target_embeddings.shape[1] == 8
