"""scripts/softmax_twin_table.sh: the softmax twin's output embeddings as the continuous table."""

import re
import shutil

import numpy as np
import pytest

from tests.helpers import recipe_env, run
from tests.integration.test_softmax_baselines import TINY

pytestmark = pytest.mark.slow


def test_trains_the_twin_with_its_own_recipe_and_writes_its_embeddings(prepared, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(prepared, data)
    twin = tmp_path / "en-fr.vmf.softmax_twin"  # main.sh's default name: SAVE_DIR.softmax_twin
    # the continuous model's settings are in the environment too: none may reach the twin
    env = recipe_env(TWIN_EXTRA_ARGS=" ".join(TINY), TWIN_MAX_UPDATE="4", MAX_TOKENS="1000",
                     DROPOUT="0.77", EXTRA_ARGS="--no-such-flag", TABLE="/nonexistent.npz")
    result = run(["bash", "scripts/softmax_twin_table.sh", "en", "fr", str(data), str(twin)], env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    table = data / "embeddings" / "en-fr.vmf.softmax_twin.fr.npz"
    assert result.stdout.strip().splitlines()[-1] == str(table)

    log = (twin / "train.log").read_text()
    assert re.search(r"\bdropout=0\.1\b", log) and "dropout=0.77" not in log  # the twin's own dropout
    assert re.search(r"num_updates 4\b", log)  # TWIN_MAX_UPDATE reached it, not main.sh's budget
    symbols = (data / "bin" / "dict.fr.txt").read_text().splitlines()
    saved = np.load(table)
    vectors = saved["vectors"]
    assert vectors.shape[1] == 16  # the twin's embedding size, read from its checkpoint
    words = [line.split()[0] for line in symbols]  # after fairseq's <s> <pad> </s> <unk>
    assert list(saved["symbols"][4:4 + len(words)]) == words and len(vectors) == len(saved["symbols"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)

    # a second call reuses the table: nothing retrained, nothing rewritten
    stamp = table.stat().st_mtime_ns, (twin / "train.log").stat().st_mtime_ns
    again = run(["bash", "scripts/softmax_twin_table.sh", "en", "fr", str(data), str(twin)], env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.strip() == str(table)
    assert (table.stat().st_mtime_ns, (twin / "train.log").stat().st_mtime_ns) == stamp


def test_refuses_a_twin_folder_that_holds_another_run(prepared, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(prepared, data)
    twin = tmp_path / "twin_b"
    twin.mkdir()
    (twin / "checkpoint_last.pt").write_bytes(b"someone else's run")
    result = run(["bash", "scripts/softmax_twin_table.sh", "en", "fr", str(data), str(twin)],
                 env=recipe_env(TWIN_EXTRA_ARGS=" ".join(TINY), TWIN_MAX_UPDATE="4", MAX_TOKENS="1000"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "already holds a training run" in result.stderr
    assert (twin / "checkpoint_last.pt").read_bytes() == b"someone else's run"
    assert not (data / "embeddings" / "twin_b.fr.npz").exists()


def test_a_twin_folder_named_like_the_language_reuses_the_table_embed_writes(tmp_path):
    """fairseq-vmf-embed strips a trailing ".fr" from the table's name: the script looks for the
    same file (twin "x.fr" -> "x.fr.npz", not "x.fr.fr.npz") and reuses it, training nothing."""
    data = tmp_path / "data"
    (data / "embeddings").mkdir(parents=True)
    table = data / "embeddings" / "en-fr.twin.fr.npz"
    table.write_bytes(b"made earlier")
    twin = tmp_path / "en-fr.twin.fr"
    result = run(["bash", "scripts/softmax_twin_table.sh", "en", "fr", str(data), str(twin)], env=recipe_env())
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == str(table)
    assert not twin.exists() and table.read_bytes() == b"made earlier"
