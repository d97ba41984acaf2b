"""The pipeline end to end on a few hundred Multi30k lines, through the installed commands."""

import json

import numpy as np
import pytest

from fairseq_vmf.embeddings.target_table import TargetEmbeddingTable
from tests.helpers import SMALL_FASTTEXT, command, prepare, run



def read(path):
    return path.read_text(encoding="utf-8").splitlines()


def test_binarized_data_and_manifest(prepared):
    from fairseq.data import Dictionary, data_utils

    manifest = json.loads((prepared / "prepare.json").read_text())
    assert manifest["lines"] == {"train": 400, "valid": 100, "test": 100}
    assert manifest["segmentation"] == {"en": "spm", "fr": "words"}
    tgt_dict = Dictionary.load(str(prepared / "bin" / "dict.fr.txt"))
    dataset = data_utils.load_indexed_dataset(str(prepared / "bin" / "train.en-fr.fr"), tgt_dict)
    assert len(dataset) == 400
    # Target side is Moses words: the binarized line decodes to the tokenized text.
    assert tgt_dict.string(dataset[0]) == read(prepared / "text" / "train.fr")[0]
    assert read(prepared / "text" / "train.fr") == read(prepared / "tok" / "train.fr")
    # Source side is SentencePiece pieces.
    assert "▁" in read(prepared / "text" / "train.en")[0]


def test_rerun_skips_every_step_and_changes_nothing(prepared, small_raw_dir):
    before = {p: p.stat().st_mtime_ns for p in prepared.rglob("*") if p.is_file()}
    result = prepare(small_raw_dir, prepared)
    assert result.returncode == 0, result.stderr
    # raw, 2x tokenize, spm, 2x segment, binarize, manifest
    assert result.stderr.count("already done, skipping") == 8
    assert ": running" not in result.stderr
    after = {p: p.stat().st_mtime_ns for p in prepared.rglob("*") if p.is_file()}
    assert before == after


def test_changed_setting_is_not_applied_silently(prepared, small_raw_dir):
    result = prepare(small_raw_dir, prepared, "--src-spm-vocab", "150")
    assert result.returncode == 2
    assert "step 'spm.en' was already done with different settings" in result.stderr
    assert "--overwrite" in result.stderr


def test_table_rows_follow_the_dictionary_and_the_vectors(prepared):
    import fasttext
    from fairseq.data import Dictionary

    tgt_dict = Dictionary.load(str(prepared / "bin" / "dict.fr.txt"))
    table = TargetEmbeddingTable.load(prepared / "embeddings" / "fasttext.fr.npz")
    table.check_matches(tgt_dict.symbols, "table")
    model = fasttext.load_model(str(prepared / "embeddings" / "fasttext.fr.bin"))
    # rows are the fastText vectors, unit-normalised, centred on the mean word direction
    from fairseq_vmf.embeddings.target_table import is_special

    words = [s for s in tgt_dict.symbols if not is_special(s)]
    units = np.stack([model.get_word_vector(w) for w in words]).astype(np.float64)
    units /= np.linalg.norm(units, axis=1, keepdims=True)
    mean = units.mean(axis=0)
    for word in ("homme", "une", "."):
        centred = units[words.index(word)] - mean
        np.testing.assert_allclose(table.vectors[tgt_dict.index(word)], centred / np.linalg.norm(centred), rtol=1e-4, atol=1e-5)
    coverage = json.loads((prepared / "embeddings" / "fasttext.fr.coverage.json").read_text())
    words = len(tgt_dict) - coverage["special"]
    assert (coverage["own"], coverage["composed"], coverage["missing"]) == (words, 0, 0)
    assert coverage["dim"] == 16 and coverage["rows"] == len(tgt_dict)


def test_same_seed_same_table(prepared, tmp_path):
    result = run([command("fairseq-vmf-embed"), "--data", str(prepared), "--out-dir", str(tmp_path), *SMALL_FASTTEXT])
    assert result.returncode == 0, result.stderr
    first = TargetEmbeddingTable.load(prepared / "embeddings" / "fasttext.fr.npz")
    second = TargetEmbeddingTable.load(tmp_path / "fasttext.fr.npz")
    np.testing.assert_array_equal(first.vectors, second.vectors)


def test_words_missing_from_a_bin_are_composed_from_ngrams(prepared, tmp_path):
    # Vectors trained on 50 lines only: the other dictionary words come from n-grams.
    text = tmp_path / "few.fr"
    text.write_text("\n".join(read(prepared / "text" / "train.fr")[:50]) + "\n", encoding="utf-8")
    result = run([command("fairseq-vmf-embed"), "--data", str(prepared), "--train-text", str(text),
                  "--out-dir", str(tmp_path), "--name", "few", *SMALL_FASTTEXT])
    assert result.returncode == 0, result.stderr
    coverage = json.loads((tmp_path / "few.fr.coverage.json").read_text())
    assert coverage["own"] > 100 and coverage["composed"] > 100 and coverage["missing"] == 0
    # Used as a user's .bin, the same file gives the same counts.
    result = run([command("fairseq-vmf-embed"), "--data", str(prepared), "--vectors", str(tmp_path / "few.fr.bin"),
                  "--out-dir", str(tmp_path / "user"), "--dim", "16"])
    assert result.returncode == 0, result.stderr
    user = json.loads((tmp_path / "user" / "few.fr.coverage.json").read_text())
    assert (user["own"], user["composed"]) == (coverage["own"], coverage["composed"])


def test_word2vec_variant_has_no_ngram_vectors(prepared, tmp_path):
    result = run([command("fairseq-vmf-embed"), "--data", str(prepared), "--variant", "word2vec",
                  "--out-dir", str(tmp_path), *SMALL_FASTTEXT])
    assert result.returncode == 0, result.stderr
    coverage = json.loads((tmp_path / "word2vec.fr.coverage.json").read_text())
    assert coverage["composed"] == 0 and coverage["fasttext"]["subwords"] is False


def test_random_variant_draws_seeded_nearly_orthogonal_rows(prepared, tmp_path):
    tables = []
    for seed in ("1", "1", "2"):
        out = tmp_path / f"seed{seed}-{len(tables)}"
        result = run([command("fairseq-vmf-embed"), "--data", str(prepared), "--variant", "random",
                      "--dim", "64", "--seed", seed, "--out-dir", str(out)])
        assert result.returncode == 0, result.stderr
        tables.append(TargetEmbeddingTable.load(out / "random.fr.npz"))
    np.testing.assert_array_equal(tables[0].vectors, tables[1].vectors)
    assert not np.allclose(tables[0].vectors, tables[2].vectors)
    cosines = tables[0].vectors @ tables[0].vectors.T
    off_diagonal = cosines[~np.eye(len(cosines), dtype=bool)]
    assert abs(off_diagonal.mean()) < 0.01 and 0.08 < off_diagonal.std() < 0.17  # ~ N(0, 1/64)
    coverage = json.loads((tmp_path / "seed1-0" / "random.fr.coverage.json").read_text())
    assert coverage["own"] == coverage["composed"] == 0 and coverage["vectors"] == "random"


def test_softmax_checkpoint_gives_a_table_of_its_output_embeddings(prepared, tmp_path):
    import torch

    dictionary = (prepared / "bin" / "dict.fr.txt").read_text(encoding="utf-8").splitlines()
    rows = 4 + len(dictionary)
    weight = torch.randn(rows, 8, generator=torch.Generator().manual_seed(0))
    torch.save({"model": {"decoder.embed_tokens.weight": weight}}, tmp_path / "softmax.pt")
    result = run([command("fairseq-vmf-embed"), "--data", str(prepared), "--vectors", str(tmp_path / "softmax.pt"),
                  "--dim", "8", "--no-center", "--out-dir", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    table = TargetEmbeddingTable.load(tmp_path / "softmax.fr.npz")
    word = table.symbols.index("homme")
    expected = weight[word] / weight[word].norm()
    np.testing.assert_allclose(table.vectors[word], expected.numpy(), rtol=1e-5, atol=1e-6)


def test_detokenized_test_side_matches_the_references(prepared):
    result = run([command("fairseq-vmf-detok"), "--data", str(prepared)],
                 input=(prepared / "text" / "test.fr").read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stderr
    hypotheses, references = result.stdout.splitlines(), read(prepared / "raw" / "test.fr")
    assert len(hypotheses) == len(references) == 100
    assert sum(h == r for h, r in zip(hypotheses, references)) >= 97


def test_sentencepiece_target_for_softmax_baselines(small_raw_dir, tmp_path):
    out = tmp_path / "spm-target"
    result = prepare(small_raw_dir, out, "--tgt-seg", "spm", "--tgt-spm-vocab", "300")
    assert result.returncode == 0, result.stderr
    result = run([command("fairseq-vmf-detok"), "--data", str(out)],
                 input=(out / "text" / "valid.fr").read_text(encoding="utf-8"))
    assert result.stdout.splitlines() == read(out / "raw" / "valid.fr")


def test_fairseq_trains_on_the_data_and_its_checkpoint_loads_safely(prepared, tmp_path):
    save_dir = tmp_path / "checkpoints"
    train = run([
        command("fairseq-train"), str(prepared / "bin"), "--user-dir", "fairseq_vmf",
        "--task", "translation", "--arch", "transformer",
        "--encoder-layers", "1", "--decoder-layers", "1", "--encoder-embed-dim", "16", "--decoder-embed-dim", "16",
        "--encoder-ffn-embed-dim", "32", "--decoder-ffn-embed-dim", "32",
        "--encoder-attention-heads", "2", "--decoder-attention-heads", "2",
        "--optimizer", "adam", "--lr", "1e-3", "--max-tokens", "2000", "--max-epoch", "1",
        "--eval-bleu", "--eval-bleu-args", '{"beam": 1, "max_len_b": 5}', "--best-checkpoint-metric", "bleu",
        "--maximize-best-checkpoint-metric", "--save-dir", str(save_dir), "--no-progress-bar", "--num-workers", "0",
        "--seed", "1",
    ])
    assert train.returncode == 0, train.stderr[-2000:]
    generate = [
        command("fairseq-generate"), str(prepared / "bin"), "--path", str(save_dir / "checkpoint_best.pt"),
        "--beam", "2", "--max-len-b", "5", "--batch-size", "16", "--required-batch-size-multiple", "1",
    ]
    with_plugin = run(generate + ["--user-dir", "fairseq_vmf"])
    assert with_plugin.returncode == 0, with_plugin.stderr[-2000:]
    assert "Translated 100 sentences" in with_plugin.stderr + with_plugin.stdout
    without_plugin = run(generate)
    assert without_plugin.returncode != 0 and "Weights only load failed" in without_plugin.stderr


def test_moses_round_trip_on_multi30k_val(multi30k_dir):
    from fairseq_vmf_text.corpus import read_lines
    from fairseq_vmf_text.moses import moses_detokenize, moses_tokenize

    for lang in ("en", "de", "fr"):
        lines = [" ".join(line.split()) for line in read_lines(multi30k_dir / f"val.{lang}.gz")]
        back = moses_detokenize(moses_tokenize(lines, lang), lang)
        assert sum(a == b for a, b in zip(lines, back)) / len(lines) >= 0.99, lang


def test_shell_recipe_prepares_another_pair(small_raw_dir, tmp_path):
    import os
    import sys
    from pathlib import Path

    env = dict(os.environ, RAW_DIR=str(small_raw_dir), VARIANT="word2vec",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "de-en"
    result = run(["bash", "scripts/prepare.sh", "de", "en", str(out)], env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((out / "prepare.json").read_text())["lines"]["train"] == 400
    table = TargetEmbeddingTable.load(out / "embeddings" / "word2vec.en.npz")
    assert table.dim == 300 and table.symbols[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    # the recipe's second table: the same words, each row mixed half with a random direction
    mixed = TargetEmbeddingTable.load(out / "embeddings" / "word2vec_mix0.5.en.npz")
    assert mixed.symbols == table.symbols and mixed.random_mix == 0.5
    cosines = (mixed.vectors[4:] * table.vectors[4:]).sum(1)
    assert abs(float(cosines.mean()) - 0.5 ** 0.5) < 0.05  # unit(sqrt(.5) row + sqrt(.5) random)
