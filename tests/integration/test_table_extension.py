"""fairseq-vmf-embed --extend: new rows in the base table's space, accepted for decoding."""

import json

import numpy as np
import pytest

from fairseq_vmf.embeddings.table_extension import extend_table
from fairseq_vmf.embeddings.target_table import TargetEmbeddingTable, word_rows
from fairseq_vmf.embeddings.vectors import FastTextBinVectors
from fairseq_vmf.errors import InputError
from tests.helpers import SMALL_FASTTEXT, TINY_TRANSFORMER, command, prepare, recipe_env, run


def embed_extend(prepared, out, *source):
    return run([command("fairseq-vmf-embed"), "--extend", str(prepared / "embeddings" / "fasttext.fr.npz"),
                "--vectors", str(prepared / "embeddings" / "fasttext.fr.bin"), "--output", str(out), *source])


@pytest.fixture(scope="module")
def new_words(prepared):
    base = TargetEmbeddingTable.load(prepared / "embeddings" / "fasttext.fr.npz")
    held_out = (prepared / "tok" / "test.fr").read_text(encoding="utf-8").split()
    return [w for w in dict.fromkeys(held_out) if w not in set(base.symbols)][:50]


def test_extension_keeps_the_base_rows_and_reproduces_base_words(prepared, tmp_path, new_words):
    base = TargetEmbeddingTable.load(prepared / "embeddings" / "fasttext.fr.npz")
    assert base.extensible and base.word_mean is not None
    known = [s for s, random in zip(base.symbols, base.random_rows) if not random][:40]
    words = tmp_path / "words.txt"
    words.write_text("\n".join(known + new_words) + "\n", encoding="utf-8")
    result = embed_extend(prepared, tmp_path / "ext.npz", "--words", str(words))
    assert result.returncode == 0, result.stderr[-2000:]
    table = TargetEmbeddingTable.load(tmp_path / "ext.npz")
    n = len(base.symbols)
    assert table.symbols[:n] == base.symbols and np.array_equal(table.vectors[:n], base.vectors)
    assert table.symbols[n:] == new_words  # the 400-line fastText model composes them from n-grams
    report = json.loads((tmp_path / "ext.coverage.json").read_text())
    assert report["already_in_base"] == len(known) and report["extra_rows"] == len(new_words)
    assert report["composed"] + report["own"] == len(new_words) and report["base_words_checked"] > 0
    # the same space: base words through the extension's transform are their base rows, bit
    # for bit, and new rows come from the same transform with the base's mean
    vectors = FastTextBinVectors(prepared / "embeddings" / "fasttext.fr.bin")
    again = word_rows(np.stack([vectors.lookup(w)[0] for w in known]), base.word_mean)
    assert np.array_equal(again, base.vectors[[base.symbols.index(w) for w in known]])
    fresh = word_rows(np.stack([vectors.lookup(w)[0] for w in new_words]), base.word_mean)
    assert np.array_equal(fresh, table.vectors[n:])


def test_decoding_accepts_the_extended_table(prepared, tmp_path, tiny_checkpoint, new_words):
    words = tmp_path / "words.txt"
    words.write_text("\n".join(new_words) + "\n", encoding="utf-8")
    assert embed_extend(prepared, tmp_path / "ext.npz", "--words", str(words)).returncode == 0
    result = run([command("fairseq-generate"), str(prepared / "bin"), "--user-dir", "fairseq_vmf",
                  "--task", "translation_vmf", "--path", str(tiny_checkpoint), "--gen-subset", "valid",
                  "--beam", "2", "--max-len-b", "5", "--decode-target-embeddings", str(tmp_path / "ext.npz")])
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"({len(new_words)} added by" in result.stderr


def test_words_from_text_and_from_the_vectors_vocabulary(prepared, tmp_path):
    result = embed_extend(prepared, tmp_path / "a.npz", "--words-from-text", str(prepared / "tok" / "valid.fr"))
    assert result.returncode == 0, result.stderr[-2000:]
    result = embed_extend(prepared, tmp_path / "b.npz", "--words-from-vectors")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "b.coverage.json").read_text())
    assert report["composed"] == 0  # every word of the model's own vocabulary has its own vector


def test_vectors_of_another_model_are_refused(prepared, tmp_path):
    other = run([command("fairseq-vmf-embed"), "--data", str(prepared), "--name", "other", "--dim", "16",
                 "--bucket", "2000", "--epoch", "2", "--seed", "7", "--out-dir", str(tmp_path / "other")])
    assert other.returncode == 0, other.stderr[-2000:]
    base = TargetEmbeddingTable.load(prepared / "embeddings" / "fasttext.fr.npz")
    with pytest.raises(InputError, match="not the vectors it was made from"):
        extend_table(base, ["maison"], FastTextBinVectors(tmp_path / "other" / "other.fr.bin"), "--extend base")


@pytest.mark.parametrize("case, content, named", [
    ("duplicate", "chat\nchien\nchat\n", "line 3 repeats 'chat' of line 1"),
    ("empty_line", "chat\n\nchien\n", "line 2 is empty"),
])
def test_bad_word_lists(prepared, tmp_path, case, content, named):
    words = tmp_path / "words.txt"
    words.write_text(content, encoding="utf-8")
    result = embed_extend(prepared, tmp_path / "ext.npz", "--words", str(words))
    assert result.returncode == 2 and "Traceback" not in result.stderr and named in result.stderr
    assert not (tmp_path / "ext.npz").exists()


def test_vectors_of_another_dimension_are_refused(prepared, tmp_path):
    vec = tmp_path / "three_d.vec"
    vec.write_text("2 3\nchat 1 0 0\nmaison 0 1 0\n", encoding="utf-8")
    words = tmp_path / "words.txt"
    words.write_text("maison\n", encoding="utf-8")
    result = run([command("fairseq-vmf-embed"), "--extend", str(prepared / "embeddings" / "fasttext.fr.npz"),
                  "--vectors", str(vec), "--output", str(tmp_path / "x.npz"), "--words", str(words)])
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "the table has dimension 16 but the vectors 3" in result.stderr
    assert not (tmp_path / "x.npz").exists()


def test_a_table_without_extension_data_is_refused(prepared, tmp_path):
    base = TargetEmbeddingTable.load(prepared / "embeddings" / "fasttext.fr.npz")
    old = tmp_path / "old.npz"
    TargetEmbeddingTable(base.symbols, base.vectors).save(old)  # as tables were saved before
    words = tmp_path / "words.txt"
    words.write_text("maison\n", encoding="utf-8")
    result = run([command("fairseq-vmf-embed"), "--extend", str(old), "--vectors",
                  str(prepared / "embeddings" / "fasttext.fr.bin"), "--output", str(tmp_path / "x.npz"),
                  "--words", str(words)])
    assert result.returncode == 2 and "made before tables kept what extending needs" in result.stderr


def test_continuous_model_over_sentencepiece_targets_trains_decodes_and_detokenizes(small_raw_dir, tmp_path):
    # open vocabulary on the target side: the table's rows are SentencePiece pieces (fastText
    # trained on the segmented target text); the recipe's translate.sh decodes the pieces back
    data = tmp_path / "spm-target"

    assert prepare(small_raw_dir, data, "--tgt-seg", "spm", "--tgt-spm-vocab", "300").returncode == 0
    embed = run([command("fairseq-vmf-embed"), "--data", str(data), *SMALL_FASTTEXT])
    assert embed.returncode == 0, embed.stderr[-2000:]
    table = TargetEmbeddingTable.load(data / "embeddings" / "fasttext.fr.npz")
    assert any(symbol.startswith("\u2581") for symbol in table.symbols)  # pieces, not words
    save = tmp_path / "run"
    train = run([command("fairseq-train"), str(data / "bin"), "--user-dir", "fairseq_vmf", "--task", "translation_vmf",
                 "--target-embeddings", str(data / "embeddings" / "fasttext.fr.npz"), *TINY_TRANSFORMER,
                 "--tie-target-embeddings", "--criterion", "vmf", "--optimizer", "adam", "--lr", "1e-3",
                 "--max-tokens", "1000", "--max-update", "4", "--save-dir", str(save), "--num-workers", "0",
                 "--eval-bleu", "--eval-bleu-remove-bpe", "sentencepiece", "--eval-bleu-detok", "space",
                 "--eval-bleu-args", '{"beam": 1, "max_len_b": 5}', "--best-checkpoint-metric", "bleu",
                 "--maximize-best-checkpoint-metric"])
    assert train.returncode == 0, train.stderr[-2000:]
    result = run(["bash", "scripts/translate.sh", "en", "fr", str(save), str(data)],
                 env=recipe_env(BEAM="2", GEN_ARGS="--max-len-b 5"))
    assert result.returncode == 0, result.stderr[-2000:]
    hyps = (save / "test.beam2.txt").read_text(encoding="utf-8").splitlines()
    assert len(hyps) == 100 and not any("\u2581" in h for h in hyps)  # pieces joined back into words


def test_decode_large_table_script_compares_the_training_table_with_an_extended_one(prepared, tiny_checkpoint):
    # the 1M-row measurement's recipe at a size a test can run: 40 synthetic extra rows
    base = TargetEmbeddingTable.load(prepared / "embeddings" / "fasttext.fr.npz")
    rows = len(base.symbols) + 40
    save = tiny_checkpoint.parent
    result = run(["bash", "scripts/decode_large_table.sh", "en", "fr", str(save), str(prepared)],
                 env=recipe_env(ROWS=str(rows), CKPT=str(tiny_checkpoint), SPLIT="valid", BEAM="2"))
    assert result.returncode == 0, result.stderr[-2000:]
    large = TargetEmbeddingTable.load(save / f"table_{rows}.npz")
    assert len(large.symbols) == rows and large.symbols[:len(base.symbols)] == base.symbols
    assert all(word.isalpha() and word not in base.symbols for word in large.symbols[len(base.symbols):])
    table = (save / "large_table.valid.beam2.md").read_text().splitlines()
    assert table[2].startswith(f"| train_table | {len(base.symbols):,} |")
    assert table[3].startswith(f"| table_{rows} | {rows:,} |")
    for line in table[2:]:
        peak_mb = float(line.split("|")[6])
        assert peak_mb > 50  # a real fairseq-generate process was measured
