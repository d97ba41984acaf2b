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


def lever_arguments(output):
    """{lever: [fairseq-train arguments]} from lever_screen.sh PRINT_ARGS=1 output."""
    levers, current = {}, None
    for line in output.splitlines():
        if line.startswith("# "):
            current = levers.setdefault(line[2:], [])
        elif current is not None:
            current.append(line)
    return levers


def last_value(argv, flag):
    return argv[len(argv) - 1 - argv[::-1].index(flag) + 1]


def test_softmax_tuning_levers_each_change_the_twins_command(prepared):
    """SYSTEM=softmax lever_screen.sh: every tuning run differs from the twin's own command, in
    the flag it names (later flags win in fairseq's parser)."""
    screen = run(["bash", "scripts/lever_screen.sh", "en", "fr", str(prepared)],
                 env=recipe_env(SYSTEM="softmax", PRINT_ARGS="1"))
    assert screen.returncode == 0, screen.stderr[-3000:]
    levers = lever_arguments(screen.stdout)
    default = levers.pop("default")
    assert len(levers) >= 20
    assert "--share-decoder-input-output-embed" in default
    def without_save_dir(argv):
        return [a for i, a in enumerate(argv) if a != "--save-dir" and argv[i - 1] != "--save-dir"]

    for name, argv in levers.items():  # each lever changes the training itself, not only its folder
        assert without_save_dir(argv) != without_save_dir(default), name
    assert last_value(default, "--dropout") == "0.3"  # the screen's baseline (train.sh's softmax default is 0.1)
    assert "--encoder-normalize-before" not in default  # the screens keep post-norm layers as their base
    assert "--share-decoder-input-output-embed" not in levers["untied"]
    assert last_value(levers["lr_1e-2"], "--lr") == "1e-2"
    assert last_value(levers["warmup_2000"], "--warmup-updates") == "2000"
    assert last_value(levers["dropout_0.1"], "--dropout") == "0.1"
    assert last_value(levers["label_smoothing_0"], "--label-smoothing") == "0"
    assert last_value(levers["adam_beta2_0.999"], "--adam-betas") == "(0.9,0.999)"
    assert last_value(levers["max_tokens_8192"], "--max-tokens") == "8192"
    assert last_value(levers["plif"], "--arch") == "plif_transformer_tiny"
    assert last_value(levers["augmented"], "--criterion") == "tied_augmented_ce"
    assert last_value(default, "--max-update") == "968"
    combined = levers["dropout_0.1_pre_norm"]  # a combination keeps both of its changes
    assert last_value(combined, "--dropout") == "0.1" and "--decoder-normalize-before" in combined
    assert last_value(levers["dropout_0.1_warmup_500"], "--warmup-updates") == "500"
    assert last_value(levers["dropout_0.1_warmup_500"], "--dropout") == "0.1"


def test_softmax_untied_lever_trains_separate_output_weights(prepared, tmp_path):
    import torch

    env = recipe_env(SYSTEM="softmax", SCREEN_UPDATES="2", SCREEN_DIR=str(tmp_path), MAX_TOKENS="1000",
                     EXTRA_ARGS=" ".join(TINY))
    screen = run(["bash", "scripts/lever_screen.sh", "en", "fr", str(prepared), "untied"], env=env)
    assert screen.returncode == 0, (screen.stdout + screen.stderr)[-3000:]
    import fairseq_vmf  # noqa: F401  (lets torch.load read fairseq checkpoints)

    model = torch.load(tmp_path / "untied" / "checkpoint_last.pt", map_location="cpu")["model"]
    inputs, outputs = model["decoder.embed_tokens.weight"], model["decoder.output_projection.weight"]
    assert inputs.shape == outputs.shape and not torch.equal(inputs, outputs)
