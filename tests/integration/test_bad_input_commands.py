"""Bad input to the fairseq commands and shell recipes, run as a user runs them.

The companion of ``tests/unit/test_bad_input_matrix.py`` (in-process cases): here each
case is a subprocess, so the assertion is on what the user sees: a non-zero exit, one
error line naming the file or flag, no traceback, and no file of the working folder
changed.
"""

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.helpers import command, recipe_env, run

pytestmark = pytest.mark.slow


def snapshot(*folders: Path):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in Path(folder).rglob("*") if p.is_file()}


def assert_refused(result, before, *fragments):
    output = result.stderr
    assert result.returncode != 0, output[-2000:]
    assert "Traceback" not in output, output[-3000:]
    lines = output.splitlines()
    assert any(all(fragment in line for fragment in fragments) for line in lines), (fragments, output[-2000:])
    after = {name: hashlib.sha256(Path(name).read_bytes()).hexdigest() if Path(name).is_file() else None
             for name in before}
    assert after == before, "a file the user had changed"


@pytest.fixture()
def work(prepared, tiny_checkpoint, tiny_softmax_checkpoint, tmp_path):
    """Copies of the data folder and both checkpoints, so each case owns its files."""
    data = tmp_path / "data"
    shutil.copytree(prepared, data)
    ckpts = tmp_path / "ckpt"
    ckpts.mkdir()
    shutil.copy(tiny_checkpoint, ckpts / "vmf.pt")
    shutil.copy(tiny_softmax_checkpoint, ckpts / "softmax.pt")
    return tmp_path


def generate(work, checkpoint, *extra, user_dir=True, task="translation_vmf"):
    args = [command("fairseq-generate"), str(work / "data" / "bin"), "--path", str(checkpoint),
            "--gen-subset", "valid", "--beam", "2", "--max-len-b", "5", "--batch-size", "16", *extra]
    if task:
        args += ["--task", task]
    if user_dir:
        args += ["--user-dir", "fairseq_vmf"]
    return run(args)


def test_softmax_checkpoint_with_translation_vmf(work):
    before = snapshot(work)
    result = generate(work, work / "ckpt" / "softmax.pt")
    assert_refused(result, before, "--task translation_vmf needs a continuous-output architecture",
                   "a softmax checkpoint decodes with --task translation")


def test_continuous_checkpoint_with_plain_translation_is_supported(work):
    # decided: supported. The model's get_normalized_probs is the renormalised vMF over the
    # table, so stock fairseq search decodes it densely: --dense-generation without the
    # sharpening of --knn-kappa-scale, a translation_vmf option
    plain = generate(work, work / "ckpt" / "vmf.pt", task="translation")
    dense = generate(work, work / "ckpt" / "vmf.pt", "--dense-generation", "--knn-kappa-scale", "1")
    assert plain.returncode == 0 and dense.returncode == 0, plain.stderr[-2000:] + dense.stderr[-2000:]
    hyps = [sorted(line for line in r.stdout.splitlines() if line.startswith("H-")) for r in (plain, dense)]
    assert hyps[0] and hyps[0] == hyps[1]


@pytest.mark.parametrize("content, problem", [
    (b"", "the file is empty"),
    (bytes(range(256)) * 64, "not a complete checkpoint archive"),
])
def test_unreadable_checkpoint_file(work, content, problem):
    broken = work / "ckpt" / "broken.pt"
    broken.write_bytes(content)
    before = snapshot(work)
    assert_refused(generate(work, broken), before, f"{broken}: cannot load this checkpoint: {problem}")


def test_missing_user_dir_is_refused_and_the_recipes_always_pass_it(work):
    before = snapshot(work)
    result = generate(work, work / "ckpt" / "vmf.pt", user_dir=False, task=None)
    # without --user-dir fairseq has never imported the plugin: it cannot build the
    # continuous model, and nothing of ours can explain that; it must fail, not decode
    assert result.returncode != 0
    assert snapshot(work) == before
    recipe = Path("scripts/translate.sh").read_text()
    assert '--user-dir "$REPO/fairseq_vmf"' in recipe
    assert '--user-dir "$REPO/fairseq_vmf"' in Path("scripts/translate_text.sh").read_text()


def interactive(work, text: bytes):
    return run([command("fairseq-interactive"), str(work / "data" / "bin"), "--user-dir", "fairseq_vmf",
                "--task", "translation_vmf", "-s", "en", "-t", "fr", "--path", str(work / "ckpt" / "vmf.pt"),
                "--beam", "2", "--max-len-b", "5"], input=text.decode("latin-1"), encoding="latin-1")


def test_interactive_reads_invalid_utf8_on_stdin_as_unknown_words(work):
    # decided: fairseq-interactive's reader keeps undecodable bytes as unknown words; the
    # sentence is translated, nothing crashes, and the other lines are unaffected
    result = interactive(work, b"a man\n\xff\xfe rides\na man\n")
    assert result.returncode == 0, result.stderr[-2000:]
    hyps = [line.split("\t")[2] for line in result.stdout.splitlines() if line.startswith("H-")]
    assert len(hyps) == 3 and hyps[0] == hyps[2]


def test_interactive_refuses_a_line_longer_than_the_model(work):
    before = snapshot(work)
    assert_refused(interactive(work, (" ".join(["a"] * 10_000) + "\n").encode()), before,
                   "fairseq_vmf: error: a sentence is longer than the model takes", "max positions")


def test_train_refuses_a_nan_table_from_the_command_line(work):
    import numpy as np

    table = work / "data" / "embeddings" / "fasttext.fr.npz"
    with np.load(table) as data:
        vectors, symbols = data["vectors"].copy(), data["symbols"]
    vectors[7] = np.nan
    broken = work / "nan.npz"
    with open(broken, "wb") as handle:
        np.savez(handle, vectors=vectors, symbols=symbols)
    before = snapshot(work)
    result = run([command("fairseq-train"), str(work / "data" / "bin"), "--user-dir", "fairseq_vmf",
                  "--task", "translation_vmf", "--target-embeddings", str(broken), "--arch",
                  "continuous_transformer_tiny", "--criterion", "vmf", "--optimizer", "adam", "--lr", "1e-3",
                  "--max-tokens", "1000", "--max-update", "1", "--save-dir", str(work / "never")])
    assert_refused(result, before, "--target-embeddings", "nan.npz", "row 7")


def test_train_with_bf16_points_to_hydra_train(work):
    # fairseq-train makes --bf16 mean --tpu with or without a GPU (seen on an H200 too)
    before = snapshot(work)
    result = run([command("fairseq-train"), str(work / "data" / "bin"), "--user-dir", "fairseq_vmf",
                  "--task", "translation_vmf", "--target-embeddings", str(work / "data" / "embeddings" / "fasttext.fr.npz"),
                  "--arch", "continuous_transformer_tiny", "--criterion", "vmf", "--optimizer", "adam", "--lr", "1e-3",
                  "--max-tokens", "1000", "--max-update", "1", "--bf16", "--save-dir", str(work / "never")])
    assert_refused(result, before, "--bf16: fairseq-train turns it into --tpu", "common.bf16=true")


def test_generate_with_fairseqs_replace_unk_points_to_the_recipe(work):
    # fairseq 0.12 asserts --dataset-impl raw for it, then fails on the first <unk>
    before = snapshot(work)
    result = generate(work, work / "ckpt" / "softmax.pt", "--replace-unk", task="translation")
    assert_refused(result, before, "--replace-unk", "REPLACE_UNK=1")


def test_translate_recipe_without_a_checkpoint(work):
    before = snapshot(work)
    result = run(["bash", "scripts/translate.sh", "en", "fr", str(work / "empty_run"), str(work / "data")],
                 env=recipe_env())
    assert_refused(result, before, "no ", "checkpoint_best.pt", "train first")


def test_train_recipe_without_the_recipe_table(work):
    # a data folder prepared without scripts/prepare.sh lacks the mixed table train.sh defaults to
    before = snapshot(work)
    result = run(["bash", "scripts/train.sh", "en", "fr", "vmf", str(work / "data"), str(work / "new_run")],
                 env=recipe_env())
    assert_refused(result, before, "TABLE=", "fasttext_mix0.5.fr.npz", "no such table", "scripts/prepare.sh")
    assert not (work / "new_run").exists()


def test_translate_recipe_with_an_unprepared_data_folder(work):
    save = work / "run"
    save.mkdir()
    shutil.copy(work / "ckpt" / "vmf.pt", save / "checkpoint_best.pt")
    shutil.rmtree(work / "data" / "bin")
    before = snapshot(work)
    result = run(["bash", "scripts/translate.sh", "en", "fr", str(save), str(work / "data")], env=recipe_env())
    assert_refused(result, before, str(work / "data"))


@pytest.mark.parametrize("pair, named", [(["en", "xx"], "--tgt 'xx': unsupported language code"),
                                         (["de", "de"], "--src and --tgt are both 'de'")])
def test_main_job_refuses_a_bad_language_pair(tmp_path, pair, named):
    before = snapshot(Path("data")) if Path("data").is_dir() else {}
    result = run(["bash", "scripts/main.sh", *pair], env=recipe_env())
    assert_refused(result, before, named)


def test_main_job_refuses_an_unknown_table_source_before_preparing_anything():
    before = snapshot(Path("data")) if Path("data").is_dir() else {}
    result = run(["bash", "scripts/main.sh", "en", "it"], env=recipe_env(TABLE_SOURCE="word2vec"))
    assert_refused(result, before, "TABLE_SOURCE=word2vec", "softmax (the default) or fasttext")
    assert not Path("data/multi30k-word_word.en-it").exists()


def test_main_job_refuses_a_table_and_a_table_source_together():
    before = snapshot(Path("data")) if Path("data").is_dir() else {}
    result = run(["bash", "scripts/main.sh", "en", "it"], env=recipe_env(TABLE_SOURCE="softmax", TABLE="mine.npz"))
    assert_refused(result, before, "TABLE=mine.npz and TABLE_SOURCE=softmax", "give one of them")
    assert not Path("data/multi30k-word_word.en-it").exists()


def test_main_job_refuses_a_used_save_dir_before_training_the_twin(tmp_path):
    save = tmp_path / "en-it.vmf"
    save.mkdir()
    (save / "checkpoint_last.pt").write_bytes(b"an earlier run")
    before = snapshot(Path("data")) if Path("data").is_dir() else {}
    result = run(["bash", "scripts/main.sh", "en", "it"], env=recipe_env(SAVE_DIR=str(save)))
    assert_refused(result, before, f"{save} already holds a training run", "RESUME=1")
    assert not Path("data/multi30k-word_word.en-it").exists() and not Path(f"{save}.softmax_twin").exists()
    assert (save / "checkpoint_last.pt").read_bytes() == b"an earlier run"


def test_main_job_refuses_an_unknown_data_variant():
    before = snapshot(Path("data")) if Path("data").is_dir() else {}
    result = run(["bash", "scripts/main.sh", "en", "fr"], env=recipe_env(DATA_VARIANT="bpe_words"))
    assert_refused(result, before, "DATA_VARIANT=bpe_words", "multi30k_bpe_words.yaml")
    assert not Path("data/multi30k-bpe_words.en-fr").exists()
