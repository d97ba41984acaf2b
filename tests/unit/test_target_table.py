import numpy as np
import pytest
from fairseq.data import Dictionary

from fairseq_vmf.embeddings.target_table import (
    TargetEmbeddingTable,
    build_target_table,
    is_special,
    read_coverage,
    write_coverage,
)
from fairseq_vmf.embeddings.vectors import COMPOSED, MISSING, OWN
from fairseq_vmf.errors import InputError


class FakeVectors:
    """Hand-written vectors: own for some words, composed for others, none for the rest."""

    dim = 4

    def __init__(self):
        self.own = {"chat": [3.0, 0, 0, 4.0], "chien": [0, 2.0, 0, 0], "rouge": [1.0, 1.0, 1.0, 1.0]}
        self.composed = {"chaton": [0, 0, 5.0, 0]}

    def lookup(self, word):
        if word in self.own:
            return np.array(self.own[word], dtype=np.float32), OWN
        if word in self.composed:
            return np.array(self.composed[word], dtype=np.float32), COMPOSED
        return None, MISSING


@pytest.fixture
def dictionary():
    d = Dictionary()
    for word, count in [("chat", 5), ("chien", 4), ("rouge", 3), ("chaton", 2), ("zzz", 1)]:
        d.add_symbol(word, n=count)
    d.finalize(padding_factor=8)  # 4 specials + 5 words, padded to 16 with 7 fillers
    return d


def test_row_i_is_the_unit_vector_of_symbol_i(dictionary):
    table, _ = build_target_table(dictionary.symbols, FakeVectors(), seed=1, center=False)
    assert table.symbols == dictionary.symbols and table.vectors.shape == (16, 4)
    np.testing.assert_allclose(table.vectors[dictionary.index("chat")], [0.6, 0, 0, 0.8], atol=1e-7)
    np.testing.assert_allclose(table.vectors[dictionary.index("chien")], [0, 1, 0, 0], atol=1e-7)
    np.testing.assert_allclose(table.vectors[dictionary.index("rouge")], [0.5] * 4, atol=1e-7)
    np.testing.assert_allclose(table.vectors[dictionary.index("chaton")], [0, 0, 1, 0], atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(table.vectors, axis=1), 1.0, atol=1e-6)


def test_centring_subtracts_the_mean_word_direction(dictionary):
    table, _ = build_target_table(dictionary.symbols, FakeVectors(), seed=1, center=True)
    units = {
        "chat": np.array([0.6, 0, 0, 0.8]), "chien": np.array([0.0, 1, 0, 0]),
        "rouge": np.array([0.5] * 4), "chaton": np.array([0.0, 0, 1, 0]),
    }
    mean = sum(units.values()) / 4  # "zzz" has no vector: it is not part of the mean
    for word, unit in units.items():
        expected = (unit - mean) / np.linalg.norm(unit - mean)
        np.testing.assert_allclose(table.vectors[dictionary.index(word)], expected, atol=1e-6)
    words = np.stack([table.vectors[dictionary.index(w)] for w in units])
    assert np.linalg.norm(words.sum(axis=0)) < np.linalg.norm(sum(units.values()))


def test_coverage_counts(dictionary):
    _, coverage = build_target_table(dictionary.symbols, FakeVectors(), seed=1)
    assert (coverage.own, coverage.composed, coverage.missing) == (3, 1, 1)
    assert coverage.missing_examples == ["zzz"]
    assert coverage.special == 4 + 7
    assert "5 words: 3 own vector (60.0%), 1 composed from n-grams (20.0%), 1 missing (20.0%)" in coverage.summary()


def test_fillers_and_fairseq_specials_are_special(dictionary):
    specials = [s for s in dictionary.symbols if is_special(s)]
    assert specials[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert specials[4:] == [f"madeupword{i:04d}" for i in range(7)]
    assert not is_special("madeupwords") and not is_special("chat")


def test_special_rows_are_nonzero_unit_and_orthogonal():
    d = Dictionary()
    for i in range(40):
        d.add_symbol(f"w{i}")
    table, coverage = build_target_table(d.symbols, RandomVectors(dim=32), seed=3)
    special = table.vectors[:4]
    np.testing.assert_allclose(special @ special.T, np.eye(4), atol=1e-6)
    assert coverage.max_special_word_cosine < 0.9


class RandomVectors:
    def __init__(self, dim):
        self.dim = dim
        self.rng = np.random.default_rng(0)

    def lookup(self, word):
        return self.rng.standard_normal(self.dim).astype(np.float32), OWN


def test_same_seed_same_table_other_seed_other_specials(dictionary):
    first, _ = build_target_table(dictionary.symbols, FakeVectors(), seed=1)
    second, _ = build_target_table(dictionary.symbols, FakeVectors(), seed=1)
    other, _ = build_target_table(dictionary.symbols, FakeVectors(), seed=2)
    np.testing.assert_array_equal(first.vectors, second.vectors)
    eos, missing = dictionary.eos(), dictionary.index("zzz")
    assert not np.allclose(first.vectors[eos], other.vectors[eos])
    assert not np.allclose(first.vectors[missing], other.vectors[missing])


def test_missing_word_gets_a_random_unit_row_not_zero(dictionary):
    table, _ = build_target_table(dictionary.symbols, FakeVectors(), seed=1)
    row = table.vectors[dictionary.index("zzz")]
    assert np.isclose(np.linalg.norm(row), 1.0) and np.count_nonzero(row) == 4


def test_save_load_round_trip_and_dictionary_check(dictionary, tmp_path):
    table, coverage = build_target_table(dictionary.symbols, FakeVectors(), seed=1)
    path = tmp_path / "t.npz"
    table.save(path)
    loaded = TargetEmbeddingTable.load(path)
    np.testing.assert_array_equal(loaded.vectors, table.vectors)
    assert loaded.symbols == dictionary.symbols
    loaded.check_matches(dictionary.symbols, str(path))

    swapped = list(dictionary.symbols)
    swapped[4], swapped[5] = swapped[5], swapped[4]
    with pytest.raises(InputError, match="row 4 is 'chat' but dictionary symbol 4 is 'chien'"):
        loaded.check_matches(swapped, str(path))
    with pytest.raises(InputError, match="table has 16 rows but the dictionary has 15 symbols"):
        loaded.check_matches(dictionary.symbols[:-1], str(path))

    write_coverage(tmp_path / "t.coverage.json", coverage, {"dim": 4})
    assert read_coverage(tmp_path / "t.coverage.json") == coverage


def test_bad_table_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="nope.npz: target embedding table not found"):
        TargetEmbeddingTable.load(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not numpy")
    with pytest.raises(InputError, match="junk.npz: not a target embedding table"):
        TargetEmbeddingTable.load(junk)
    unnormalised = tmp_path / "raw.npz"
    TargetEmbeddingTable(["a", "b"], np.array([[2.0, 0], [0, 1]], dtype=np.float32)).save(unnormalised)
    with pytest.raises(InputError, match="raw.npz: row 0 is of norm 2, not unit-norm"):
        TargetEmbeddingTable.load(unnormalised)
    zero_row = tmp_path / "zero.npz"
    TargetEmbeddingTable(["a", "b"], np.array([[1.0, 0], [0, 0]], dtype=np.float32)).save(zero_row)
    with pytest.raises(InputError, match="zero.npz: row 1 is zero-norm"):
        TargetEmbeddingTable.load(zero_row)
    one_dim = tmp_path / "one_dim.npz"
    TargetEmbeddingTable(["a", "b"], np.array([[1.0], [-1.0]], dtype=np.float32)).save(one_dim)
    with pytest.raises(InputError, match="one_dim.npz: vectors have dimension 1; the vMF needs m >= 2"):
        TargetEmbeddingTable.load(one_dim)


class WideVectors:
    """300-d vectors, all close to one direction: a crowded neighbourhood, as fastText's rare words."""

    dim = 300

    def __init__(self, words):
        rng = np.random.default_rng(0)
        common = rng.standard_normal(self.dim)
        self.vectors = {w: (common + 0.3 * rng.standard_normal(self.dim)).astype(np.float32) for w in words}

    def lookup(self, word):
        return (self.vectors[word], OWN) if word in self.vectors else (None, MISSING)


def test_random_mix_keeps_a_share_of_each_cosine_and_depends_only_on_the_word():
    words = [f"mot{i}" for i in range(40)]
    symbols = ["<s>", "<pad>", "</s>", "<unk>"] + words
    vectors = WideVectors(words)
    plain, _ = build_target_table(symbols, vectors, seed=3, center=False)
    mixed, _ = build_target_table(symbols, vectors, seed=3, center=False, random_mix=0.75)
    np.testing.assert_allclose(np.linalg.norm(mixed.vectors, axis=1), 1.0, atol=1e-6)
    # the pretrained part keeps sqrt(1 - w) of each row: cos(mixed, plain) ~ 0.5 (random part
    # nearly orthogonal in 300-d), and pairwise cosines shrink to about (1 - w) of their value
    assert np.abs(np.sum(mixed.vectors[4:] * plain.vectors[4:], axis=1) - 0.5).max() < 0.1
    plain_cos, mixed_cos = plain.vectors[4:] @ plain.vectors[4:].T, mixed.vectors[4:] @ mixed.vectors[4:].T
    off = ~np.eye(len(words), dtype=bool)
    assert plain_cos[off].mean() > 0.9 and abs(mixed_cos[off].mean() - 0.25 * plain_cos[off].mean()) < 0.05
    np.testing.assert_array_equal(mixed.vectors[:4], plain.vectors[:4])  # special rows untouched
    # a word's random direction is a function of (seed, word): another dictionary order and
    # another word set give the same row
    reordered, _ = build_target_table(["<s>", "<pad>", "</s>", "<unk>"] + words[::-1][:10], vectors,
                                      seed=3, center=False, random_mix=0.75)
    for word in words[::-1][:10]:
        np.testing.assert_array_equal(reordered.vectors[reordered.symbols.index(word)],
                                      mixed.vectors[mixed.symbols.index(word)])


def test_random_mix_round_trips_and_is_range_checked(tmp_path):
    words = ["chat", "chien"]
    table, _ = build_target_table(["<s>", "<pad>", "</s>", "<unk>"] + words, WideVectors(words), seed=2,
                                  random_mix=0.5)
    table.save(tmp_path / "mixed.npz")
    loaded = TargetEmbeddingTable.load(tmp_path / "mixed.npz")
    assert (loaded.random_mix, loaded.mix_seed) == (0.5, 2)
    with pytest.raises(InputError, match="--random-mix must be in"):
        build_target_table(["chat"], WideVectors(["chat"]), random_mix=1.0)


def test_an_extended_mixed_table_reproduces_its_base_rows_and_builds_new_ones_the_same_way():
    from fairseq_vmf.embeddings.table_extension import extend_table

    words = [f"mot{i}" for i in range(40)]
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vectors = WideVectors(words)
    base, _ = build_target_table(specials + words[:30], vectors, seed=5, center=False, random_mix=0.5)
    full, _ = build_target_table(specials + words, vectors, seed=5, center=False, random_mix=0.5)
    extended, report = extend_table(base, words[20:], vectors, "--extend base.npz")  # checks base words
    assert report["already_in_base"] == 10 and report["extra_rows"] == 10
    np.testing.assert_array_equal(extended.vectors[:34], base.vectors)
    np.testing.assert_array_equal(extended.vectors[34:], full.vectors[34:])
    assert (extended.random_mix, extended.mix_seed) == (0.5, 5)
    unmixed, _ = build_target_table(specials + words[:30], vectors, seed=5, center=False)
    with pytest.raises(InputError, match="not the vectors it was made from"):
        extend_table(TargetEmbeddingTable(base.symbols, base.vectors, None, base.random_rows), words[30:],
                     vectors, "--extend base.npz")  # the mix forgotten: base rows are not reproduced
    assert not np.allclose(unmixed.vectors[4:], base.vectors[4:])
