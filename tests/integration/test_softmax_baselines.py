"""The softmax-side comparison systems through fairseq-train / fairseq-generate."""

import pytest

from tests.helpers import command, recipe_env, run

TINY = [
    "--encoder-layers", "1", "--decoder-layers", "1", "--encoder-embed-dim", "16", "--decoder-embed-dim", "16",
    "--encoder-ffn-embed-dim", "32", "--decoder-ffn-embed-dim", "32",
    "--encoder-attention-heads", "2", "--decoder-attention-heads", "2",
]
TINY_LSTM = ["--encoder-embed-dim", "16", "--encoder-hidden-size", "16", "--decoder-embed-dim", "16",
             "--decoder-hidden-size", "16", "--decoder-out-embed-dim", "16"]


@pytest.mark.parametrize("system", [
    ["--arch", "plif_transformer_small", *TINY, "--plif-knots", "2000",
     "--criterion", "label_smoothed_cross_entropy", "--label-smoothing", "0.1"],
    ["--arch", "plif_lstm_small", *TINY_LSTM, "--criterion", "cross_entropy"],
    ["--arch", "transformer", *TINY, "--criterion", "tied_augmented_ce", "--label-smoothing", "0.1"],
    ["--arch", "plif_transformer_small", *TINY, "--criterion", "tied_augmented_ce", "--aug-temperature", "5"],
], ids=["plif_transformer", "plif_lstm", "augmented_loss", "plif_with_augmented_loss"])
def test_trains_and_decodes_through_the_command_line(prepared, tmp_path, system):
    save_dir = tmp_path / "ckpt"
    train = run([
        command("fairseq-train"), str(prepared / "bin"), "--user-dir", "fairseq_vmf", "--task", "translation",
        *system, "--share-decoder-input-output-embed",
        "--optimizer", "adam", "--lr", "1e-3", "--max-tokens", "1000", "--max-update", "6",
        "--save-dir", str(save_dir), "--no-progress-bar", "--num-workers", "0", "--seed", "1",
        "--log-format", "json", "--log-interval", "1", "--no-epoch-checkpoints",
    ])
    assert train.returncode == 0, train.stderr[-3000:]
    out = train.stdout + train.stderr
    assert '"num_updates": "6"' in out
    if "tied_augmented_ce" in system:
        assert '"aug_loss"' in out
    generate = run([
        command("fairseq-generate"), str(prepared / "bin"), "--user-dir", "fairseq_vmf",
        "--path", str(save_dir / "checkpoint_last.pt"), "--gen-subset", "test",
        "--beam", "3", "--max-len-b", "5", "--batch-size", "16", "--required-batch-size-multiple", "1",
    ])
    assert generate.returncode == 0, generate.stderr[-3000:]
    assert "Translated 100 sentences" in generate.stdout + generate.stderr


def test_plif_learns_away_from_the_identity(prepared, tmp_path):
    import torch

    save_dir = tmp_path / "ckpt"
    train = run([
        command("fairseq-train"), str(prepared / "bin"), "--user-dir", "fairseq_vmf", "--task", "translation",
        "--arch", "plif_transformer_small", *TINY, "--plif-knots", "500", "--plif-lr-scale", "10",
        "--share-decoder-input-output-embed", "--criterion", "cross_entropy",
        "--optimizer", "adam", "--lr", "1e-3", "--max-tokens", "1000", "--max-update", "3",
        "--save-dir", str(save_dir), "--no-progress-bar", "--num-workers", "0", "--no-epoch-checkpoints",
    ])
    assert train.returncode == 0, train.stderr[-3000:]
    import fairseq_vmf  # noqa: F401  (lets torch.load read fairseq checkpoints)

    state = torch.load(save_dir / "checkpoint_last.pt", map_location="cpu")
    raw = state["model"]["decoder.plif.scaled_raw_slopes"] * 10.0
    slopes = torch.nn.functional.softplus(raw)
    assert slopes.numel() == 500
    assert (slopes - 1).abs().max() > 1e-3  # trained: no longer the identity


@pytest.mark.parametrize("system", ["softmax", "plif", "augmented", "adaptive"])
def test_train_sh_trains_and_validates_every_softmax_system(prepared, tmp_path, system):
    """scripts/train.sh's flags for each system are accepted by fairseq-train as a whole
    (adaptive_loss, e.g., refuses fairseq's default DDP wrapper), and validation BLEU runs."""
    save_dir = tmp_path / system
    env = recipe_env(MAX_UPDATE="2", MAX_TOKENS="1000", ADAPTIVE_CUTOFF="50,200",
                     EXTRA_ARGS=" ".join(TINY) + " --log-format json --log-interval 1")
    train = run(["bash", "scripts/train.sh", "en", "fr", system, str(prepared), str(save_dir)], env=env)
    assert train.returncode == 0, (train.stdout + train.stderr)[-3000:]
    log = (save_dir / "train.log").read_text()
    assert '"num_updates": "2"' in log and '"valid_bleu"' in log
    assert (save_dir / "checkpoint_best.pt").is_file()
