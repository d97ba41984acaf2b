"""Integration fixtures: a small prepared en-fr pair, shared by the whole session."""

import pytest

from tests.helpers import SMALL_FASTTEXT, TINY_TRANSFORMER, command, prepare, run, train_args


@pytest.fixture(scope="session")
def prepared(small_raw_dir, tmp_path_factory):
    """400 training lines of en-fr: SentencePiece source, word target, 16-d fastText table."""
    out = tmp_path_factory.mktemp("prepared") / "en-fr"
    result = prepare(small_raw_dir, out)
    assert result.returncode == 0, result.stderr
    result = run([command("fairseq-vmf-embed"), "--data", str(out), *SMALL_FASTTEXT])
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def tiny_checkpoint(prepared, tmp_path_factory):
    """A continuous Transformer (16-d) trained 6 updates on ``prepared``."""
    save_dir = tmp_path_factory.mktemp("tiny_vmf")
    train = run(train_args(prepared, save_dir, *TINY_TRANSFORMER, "--tie-target-embeddings", "--criterion", "vmf",
                           "--vmf-lambda1", "0", "--vmf-lambda2", "1", "--max-update", "6",
                           "--disable-validation"))
    assert train.returncode == 0, train.stderr[-3000:]
    return save_dir / "checkpoint_last.pt"


@pytest.fixture(scope="session")
def tiny_softmax_checkpoint(prepared, tmp_path_factory):
    """A stock fairseq softmax Transformer of the same size, 2 updates on ``prepared``."""
    save_dir = tmp_path_factory.mktemp("tiny_softmax")
    args = train_args(prepared, save_dir, *TINY_TRANSFORMER, "--criterion", "cross_entropy",
                      "--max-update", "2", "--disable-validation")
    args[args.index("translation_vmf")] = "translation"
    args[args.index("--target-embeddings"):args.index("--target-embeddings") + 2] = []
    args[args.index("continuous_transformer_small")] = "transformer"
    train = run(args)
    assert train.returncode == 0, train.stderr[-3000:]
    return save_dir / "checkpoint_last.pt"
