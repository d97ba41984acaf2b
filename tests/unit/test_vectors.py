import random

import numpy as np
import pytest

from fairseq_vmf.embeddings.vectors import (
    COMPOSED,
    MISSING,
    OWN,
    FastTextSettings,
    FastTextBinVectors,
    load_vectors,
    read_vec_file,
    train_fasttext,
)
from fairseq_vmf.errors import InputError


def make_corpus(seed=0):
    """A few French sentences among random lines over 400 made-up words (trains in ~0.1 s)."""
    rng = random.Random(seed)
    french = [
        "un homme regarde la mer",
        "une femme marche dans la rue",
        "deux chiens jouent dans la neige",
        "les hommes travaillent sur un toit",
        "une fille saute dans la piscine",
    ]
    made_up = ["".join(rng.choice("abcdefghilmnoprstu") for _ in range(rng.randint(3, 9))) for _ in range(400)]
    lines = french * 20 + [" ".join(rng.choice(made_up) for _ in range(10)) for _ in range(600)]
    rng.shuffle(lines)
    return lines


CORPUS = make_corpus()
DIM = 16


def write_vec(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("ft") / "train.fr"
    path.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def subword_bin(corpus):
    settings = FastTextSettings(dim=DIM, bucket=2000)
    return train_fasttext(corpus, corpus.parent / "sg.bin", settings)


def test_vec_file_is_parsed(tmp_path):
    path = write_vec(tmp_path / "v.vec", "3 2\nchat 1 0\nchien 0 2.5\nrouge -1 1\n")
    dim, vectors = read_vec_file(path)
    assert dim == 2 and sorted(vectors) == ["chat", "chien", "rouge"]
    np.testing.assert_array_equal(vectors["chien"], [0, 2.5])


def test_headerless_glove_style_vec_reads_like_one_with_a_header(tmp_path):
    body = "chat 1 0\nchien 0 2.5\nrouge -1 1\n"
    with_header = read_vec_file(write_vec(tmp_path / "h.vec", "3 2\n" + body))
    headerless = read_vec_file(write_vec(tmp_path / "glove.txt", body))
    assert headerless[0] == with_header[0] == 2
    assert sorted(headerless[1]) == ["chat", "chien", "rouge"]
    for word in with_header[1]:
        np.testing.assert_array_equal(headerless[1][word], with_header[1][word])


def test_vec_keeps_only_wanted_words(tmp_path):
    path = write_vec(tmp_path / "v.vec", "3 2\nchat 1 0\nchien 0 2.5\nrouge -1 1\n")
    vectors = load_vectors(path, ["chien", "absent"])
    assert sorted(vectors.vectors) == ["chien"]
    assert vectors.lookup("chien")[1] == OWN
    assert vectors.lookup("chat") == (None, MISSING)


@pytest.mark.parametrize(
    "text,message",
    [
        ("2\nchat 1 0\n", "line 1 must be the header"),
        ("chat 1 x\nchien 0 1\n", "line 1 must be the header .* headerless"),
        ("chat 1 0\nchien 0 1 3\n", "line 2 has 3 values, line 1 has 2 .ragged row."),
        ("2 2\nchat 1 0\nchien 0 1 3\n", "line 3 has 3 values, the header says 2 .ragged row."),
        ("2 2\nchat 1\nchien 0 1\n", "line 2 has 1 values"),
        ("3 2\nchat 1 0\nchien 0 1\n", "header says 3 words but the file has 2"),
        ("1 2\nchat 1 zéro\n", "line 2 has a value that is not a number"),
        ("1 2\nchat 1 nan\n", "line 2 has a non-finite value"),
    ],
)
def test_malformed_vec_is_named_with_its_line(tmp_path, text, message):
    path = write_vec(tmp_path / "bad.vec", text)
    with pytest.raises(InputError, match=f"bad.vec: {message}"):
        read_vec_file(path)


def test_dimension_other_than_asked_is_refused(tmp_path):
    path = write_vec(tmp_path / "v.vec", "1 2\nchat 1 0\n")
    with pytest.raises(InputError, match="v.vec: vectors have dimension 2 but --dim 300 was asked for"):
        load_vectors(path, ["chat"], expected_dim=300)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="unknown vectors format '.pkl'"):
        load_vectors(tmp_path / "v.pkl", [])
    with pytest.raises(InputError, match="missing.bin: vectors file not found"):
        load_vectors(tmp_path / "missing.bin", [])


def test_bin_that_is_not_fasttext_is_refused(tmp_path):
    path = tmp_path / "junk.bin"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(InputError, match="junk.bin: not a fastText .bin model"):
        load_vectors(path, [])


def test_subword_bin_gives_own_and_composed_vectors(subword_bin):
    vectors = load_vectors(subword_bin, [], expected_dim=DIM)
    assert isinstance(vectors, FastTextBinVectors) and vectors.has_subwords
    vector, kind = vectors.lookup("homme")
    assert kind == OWN and vector.shape == (DIM,) and np.any(vector)
    vector, kind = vectors.lookup("hommes-grenouilles")  # unseen, shares n-grams with "hommes"
    assert kind == COMPOSED and np.any(vector)
    assert vectors.lookup("") == (None, MISSING)


def test_word_only_bin_has_no_composed_vectors(corpus, tmp_path):
    settings = FastTextSettings(dim=DIM, subwords=False)
    vectors = load_vectors(train_fasttext(corpus, tmp_path / "w2v.bin", settings), [])
    assert not vectors.has_subwords
    assert vectors.lookup("homme")[1] == OWN
    assert vectors.lookup("hommes-grenouilles") == (None, MISSING)


def test_one_thread_training_is_deterministic_and_sane(corpus, subword_bin, tmp_path):
    # fasttext 0.9.3 (PyPI source build) failed this: with one thread it gave different
    # vectors on each run, some with entries near 1e25, or aborted with "Encountered NaN".
    for attempt in range(3):
        again = train_fasttext(corpus, tmp_path / f"again{attempt}.bin", FastTextSettings(dim=DIM, bucket=2000))
        first, second = load_vectors(subword_bin, []), load_vectors(again, [])
        for word in ("homme", "piscine", "inconnu"):
            vector = first.lookup(word)[0]
            np.testing.assert_array_equal(vector, second.lookup(word)[0])
            assert np.all(np.abs(vector) < 100)


def test_empty_training_text_is_refused(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(InputError, match="empty.txt: training text for fastText is missing or empty"):
        train_fasttext(empty, tmp_path / "x.bin", FastTextSettings(dim=8))


def save_softmax_like_checkpoint(path, key, weight):
    import torch

    torch.save({"model": {key: torch.as_tensor(weight), "encoder.x": torch.zeros(1)}}, path)
    return path


@pytest.mark.parametrize("key", ["decoder.output_projection.weight", "decoder.embed_tokens.weight"])
def test_softmax_checkpoint_rows_are_matched_by_index(tmp_path, key):
    weight = np.arange(12, dtype=np.float32).reshape(4, 3)
    path = save_softmax_like_checkpoint(tmp_path / "model.pt", key, weight)
    vectors = load_vectors(path, ["<s>", "chat", "chien", "le"], expected_dim=3)
    assert vectors.dim == 3
    vector, kind = vectors.lookup("chien")
    assert kind == OWN and vector.tolist() == [6.0, 7.0, 8.0]
    assert vectors.lookup("absent") == (None, MISSING)


def test_softmax_checkpoint_of_another_dictionary_or_model_is_refused(tmp_path):
    path = save_softmax_like_checkpoint(tmp_path / "model.pt", "decoder.embed_tokens.weight", np.ones((4, 3)))
    with pytest.raises(InputError, match="model.pt: its output embeddings have 4 rows but the target dictionary has 2"):
        load_vectors(path, ["a", "b"])
    other = save_softmax_like_checkpoint(tmp_path / "vmf.pt", "decoder.output_projection.projection.weight", np.ones((3, 4)))
    with pytest.raises(InputError, match="vmf.pt: no output embedding matrix in this checkpoint"):
        load_vectors(other, ["a", "b", "c"])
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="junk.pt: not a readable fairseq checkpoint"):
        load_vectors(junk, ["a"])
