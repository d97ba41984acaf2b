"""fairseq-train / fairseq-generate on continuous-output models through the command line."""

import json

import pytest

from tests.helpers import TINY_TRANSFORMER, command, run, train_args

TINY_LSTM = [
    "--arch", "continuous_lstm_small", "--encoder-embed-dim", "16", "--encoder-hidden-size", "16",
    "--decoder-embed-dim", "16", "--decoder-hidden-size", "16", "--decoder-out-embed-dim", "16",
]


def update_losses(stdout):
    """{update number: training loss} from fairseq's json log lines."""
    losses = {}
    for line in stdout.splitlines():
        if '"num_updates"' in line and '"loss"' in line and "train_inner" in line:
            record = json.loads(line[line.index("{"):])
            losses[int(record["num_updates"])] = float(record["loss"])
    return losses


@pytest.mark.parametrize("criterion, arch", [
    (["--criterion", "vmf", "--vmf-table-nll-weight", "1"], TINY_TRANSFORMER),
    (["--criterion", "vmf", "--vmf-normaliser", "approximate", "--vmf-cosine-warmup-updates", "2",
      "--vmf-table-nll-weight", "0.5", "--vmf-table-candidates", "all"], TINY_LSTM),
    (["--criterion", "cosine"], TINY_TRANSFORMER + ["--tie-target-embeddings"]),
    (["--criterion", "l2"], TINY_LSTM + ["--tie-target-embeddings"]),
    (["--criterion", "max_margin", "--margin-negative", "projection"], TINY_TRANSFORMER),
])
def test_every_criterion_trains_and_validates_from_the_command_line(prepared, tmp_path, criterion, arch):
    result = run(train_args(prepared, tmp_path / "ckpt", *arch, *criterion, "--max-update", "6",
                            "--best-checkpoint-metric", "nn_acc", "--maximize-best-checkpoint-metric"))
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "continuous output layer:" in log
    valid = [json.loads(line[line.index("{"):]) for line in log.splitlines() if '"valid_nn_acc"' in line]
    assert valid and {"valid_loss", "valid_cos", "valid_kappa", "valid_nn_acc"} <= set(valid[-1])
    assert not any("ppl" in key for key in valid[-1])
    assert (tmp_path / "ckpt" / "checkpoint_best.pt").is_file()


def test_resumed_training_gives_the_same_next_step_loss(prepared, tmp_path):
    straight = run(train_args(prepared, tmp_path / "straight", *TINY_TRANSFORMER, "--criterion", "vmf",
                              "--max-update", "5", "--dropout", "0.3", "--disable-validation"))
    assert straight.returncode == 0, straight.stderr[-3000:]
    first = run(train_args(prepared, tmp_path / "resumed", *TINY_TRANSFORMER, "--criterion", "vmf",
                           "--max-update", "4", "--dropout", "0.3", "--disable-validation"))
    assert first.returncode == 0, first.stderr[-3000:]
    second = run(train_args(prepared, tmp_path / "resumed", *TINY_TRANSFORMER, "--criterion", "vmf",
                            "--max-update", "5", "--dropout", "0.3", "--disable-validation"))
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Loaded checkpoint" in second.stdout + second.stderr
    expected = update_losses(straight.stdout + straight.stderr)
    resumed = update_losses(second.stdout + second.stderr)
    assert set(expected) == {1, 2, 3, 4, 5} and set(resumed) == {5}
    assert resumed[5] == pytest.approx(expected[5], abs=1e-3)


def test_generate_decodes_a_checkpoint_without_the_table_file(prepared, tmp_path):
    save_dir = tmp_path / "ckpt"
    train = run(train_args(prepared, save_dir, *TINY_TRANSFORMER, "--tie-target-embeddings", "--criterion", "vmf",
                           "--max-update", "4", "--eval-bleu", "--eval-bleu-detok", "moses",
                           "--eval-bleu-args", '{"beam": 1, "max_len_a": 1.2, "max_len_b": 5}',
                           "--best-checkpoint-metric", "bleu", "--maximize-best-checkpoint-metric"))
    assert train.returncode == 0, train.stderr[-3000:]
    assert '"valid_bleu"' in train.stdout + train.stderr
    generate_args = [
        command("fairseq-generate"), str(prepared / "bin"), "--user-dir", "fairseq_vmf",
        "--task", "translation_vmf", "--path", str(save_dir / "checkpoint_best.pt"),
        "--beam", "3", "--max-len-a", "1.2", "--max-len-b", "5", "--batch-size", "16",
        "--required-batch-size-multiple", "1", "--gen-subset", "test",
    ]
    generate = run(generate_args)
    assert generate.returncode == 0, generate.stderr[-3000:]
    out = generate.stdout + generate.stderr
    assert "Translated 100 sentences" in out
    assert sum(line.startswith("H-") for line in out.splitlines()) == 100
    assert "madeupword" not in "".join(line for line in out.splitlines() if line.startswith("H-"))

    # a larger decoding table: the checkpoint's rows first, then words it never saw
    import numpy as np
    from fairseq_vmf.embeddings.target_table import TargetEmbeddingTable

    table = TargetEmbeddingTable.load(prepared / "embeddings" / "fasttext.fr.npz")
    rng = np.random.default_rng(0)
    extra = rng.standard_normal((3, table.dim)).astype(np.float32)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    bigger = tmp_path / "bigger.npz"
    TargetEmbeddingTable(table.symbols + ["mot-nouveau-1", "mot-nouveau-2", "mot-nouveau-3"],
                         np.concatenate([table.vectors, extra])).save(bigger)
    extended = run(generate_args + ["--decode-target-embeddings", str(bigger)])
    assert extended.returncode == 0, extended.stderr[-3000:]
    assert f"decoding with {len(table.symbols) + 3} target words (3 added by {bigger})" in extended.stderr
    assert "Translated 100 sentences" in extended.stdout + extended.stderr

    other = tmp_path / "other.npz"
    TargetEmbeddingTable(table.symbols, np.roll(table.vectors, 1, axis=1)).save(other)
    refused = run(generate_args + ["--decode-target-embeddings", str(other)])
    assert refused.returncode != 0
    assert f"--decode-target-embeddings {other}: its first {len(table.symbols)} rows differ" in refused.stderr


def test_translation_vmf_refuses_a_table_of_another_dictionary(prepared, tmp_path):
    from fairseq_vmf.embeddings.target_table import TargetEmbeddingTable

    table = TargetEmbeddingTable.load(prepared / "embeddings" / "fasttext.fr.npz")
    # the same rows, but symbol 4 moved to the end: row i no longer belongs to symbol i
    shuffled = TargetEmbeddingTable(table.symbols[:4] + table.symbols[5:] + table.symbols[4:5], table.vectors)
    bad = tmp_path / "other.npz"
    shuffled.save(bad)
    args = train_args(prepared, tmp_path / "ckpt", *TINY_TRANSFORMER, "--criterion", "vmf", "--max-update", "1")
    args[args.index("--target-embeddings") + 1] = str(bad)
    result = run(args)
    assert result.returncode != 0
    assert f"--target-embeddings {bad}: row 4 is" in result.stderr


def interactive(prepared, checkpoint, lines, *extra):
    return run([
        command("fairseq-interactive"), str(prepared / "bin"), "--user-dir", "fairseq_vmf",
        "--task", "translation_vmf", "-s", "en", "-t", "fr", "--path", str(checkpoint),
        "--beam", "3", "--nbest", "2", "--max-len-a", "1.2", "--max-len-b", "5", "--buffer-size", "4",
        *extra,
    ], input="".join(line + "\n" for line in lines))


def test_interactive_translates_stdin_like_the_stock_generator(prepared, tiny_checkpoint):
    source = (prepared / "text" / "test.en").read_text(encoding="utf-8").splitlines()[:5]
    lines = source[:2] + [""] + source[2:]
    knn = interactive(prepared, tiny_checkpoint, lines)
    dense = interactive(prepared, tiny_checkpoint, lines, "--dense-generation")
    assert knn.returncode == dense.returncode == 0, knn.stderr[-3000:]

    def hypotheses(out):
        return [line for line in out.splitlines() if line.startswith(("H-", "S-"))]

    found = hypotheses(knn.stdout)
    assert sum(line.startswith("H-") for line in found) == 2 * len(lines)  # --nbest 2, the empty line too
    want = hypotheses(dense.stdout)
    assert [l.split("\t")[::2] for l in found] == [l.split("\t")[::2] for l in want]  # ids and text

    too_long = [" ".join(["▁a"] * 1100)]
    long_knn = interactive(prepared, tiny_checkpoint, too_long)
    long_dense = interactive(prepared, tiny_checkpoint, too_long, "--dense-generation")
    assert long_knn.returncode == long_dense.returncode
    assert hypotheses(long_knn.stdout) == hypotheses(long_dense.stdout)


def test_kappa_scale_is_a_sharper_renormalised_vmf(prepared, tiny_checkpoint):
    source = (prepared / "text" / "test.en").read_text(encoding="utf-8").splitlines()[:4]

    def scored(*extra):
        out = interactive(prepared, tiny_checkpoint, source, *extra)
        assert out.returncode == 0, out.stderr[-3000:]
        return [line for line in out.stdout.splitlines() if line.startswith("H-")]

    def same(a, b):
        assert [line.split("\t")[::2] for line in a] == [line.split("\t")[::2] for line in b]  # ids, text
        assert [float(line.split("\t")[1]) for line in a] == pytest.approx([float(line.split("\t")[1]) for line in b], rel=1e-5)

    sharper = scored("--knn-kappa-scale", "2")
    same(sharper, scored("--knn-kappa-scale", "1", "--temperature", "0.5"))
    same(sharper, scored("--knn-kappa-scale", "2", "--dense-generation"))
    flat = scored("--knn-kappa-scale", "1")
    # different (sharper) log-probabilities for the hypotheses
    assert [line.split("\t")[1] for line in sharper] != [line.split("\t")[1] for line in flat]
    bad = interactive(prepared, tiny_checkpoint, source, "--knn-kappa-scale", "0")
    assert bad.returncode != 0
    assert "--knn-kappa-scale must be a positive number, got 0" in bad.stderr


def test_hydra_config_trains_through_fairseq_hydra_train(prepared, tmp_path):
    from tests.helpers import REPO

    result = run([
        command("fairseq-hydra-train"), "--config-dir", str(REPO / "configs" / "train"),
        "--config-name", "vmf_transformer_small",
        f"common.user_dir={REPO / 'fairseq_vmf'}", f"task.data={prepared / 'bin'}",
        f"task.target_embeddings={prepared / 'embeddings' / 'fasttext.fr.npz'}",
        f"checkpoint.save_dir={tmp_path / 'ckpt'}", f"hydra.run.dir={tmp_path / 'hydra'}",
        "optimization.max_update=2", "task.eval_bleu=false", "checkpoint.best_checkpoint_metric=nn_acc",
        "model.tie_target_embeddings=false", "+model.encoder_layers=1", "+model.decoder_layers=1",
    ])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    log = result.stdout + result.stderr
    assert "continuous output layer" in log and "nn_acc" in log
    assert (tmp_path / "ckpt" / "checkpoint_last.pt").is_file()


def test_translate_recipe_scores_and_refuses_dropped_sentences(prepared, tiny_checkpoint):
    import os

    from tests.helpers import REPO

    env = dict(os.environ, CKPT=str(tiny_checkpoint), BEAM="2", PATH=f"{command('python').rsplit('/', 1)[0]}:{os.environ['PATH']}")
    save_dir = str(tiny_checkpoint.parent)
    ok = run(["bash", str(REPO / "scripts" / "translate.sh"), "en", "fr", save_dir, str(prepared)], env=env)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert '"signature": "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"' in ok.stdout
    assert "Translated 100 sentences" in ok.stderr
    assert len((tiny_checkpoint.parent / "test.beam2.txt").read_text(encoding="utf-8").splitlines()) == 100

    # batches rounded down to a multiple of 8 make fairseq-generate drop sentences silently
    env["GEN_ARGS"] = "--batch-size 50 --required-batch-size-multiple 8"
    env["TAG"] = "dropping"
    dropped = run(["bash", str(REPO / "scripts" / "translate.sh"), "en", "fr", save_dir, str(prepared)], env=env)
    assert dropped.returncode == 1
    assert "hypotheses for 100 references" in dropped.stderr and "dropped sentences" in dropped.stderr


def test_cosine_warmup_switch_and_frozen_tied_table_through_fairseq_train(prepared, tmp_path):
    # during the warm-up the per-token loss is 1 - cos exactly (loss and cos are both means
    # over the same tokens); from update 3 on it is the vMF loss, which is not
    result = run(train_args(prepared, tmp_path / "ckpt", *TINY_TRANSFORMER, "--criterion", "vmf",
                            "--tie-target-embeddings", "--vmf-cosine-warmup-updates", "2",
                            "--max-update", "4", "--disable-validation",
                            "--tensorboard-logdir", str(tmp_path / "tensorboard")))
    assert result.returncode == 0, result.stderr[-3000:]
    records = {}
    for line in (result.stdout + result.stderr).splitlines():
        if "train_inner" in line and '"num_updates"' in line:
            record = json.loads(line[line.index("{"):])
            records[int(record["num_updates"])] = record
    assert set(records) == {1, 2, 3, 4}
    gaps = {n: abs(float(r["loss"]) + float(r["cos"]) - 1.0) for n, r in records.items()}
    assert gaps[1] < 2e-4 and gaps[2] < 2e-4, gaps
    assert gaps[3] > 0.05 and gaps[4] > 0.05, gaps
    # the plain NLLvMF is logged in both phases, and it is not the training loss in either
    assert all(abs(float(r["nll_vmf"]) - float(r["loss"])) > 0.05 for r in records.values())
    assert "nll_vmf is the plain NLLvMF" in result.stdout + result.stderr
    # --tensorboard-logdir works out of the box (tensorboardX is a dependency): the event file
    # of the training scalars holds the continuous criterion's statistics
    assert "Please install tensorboardX" not in result.stdout + result.stderr
    events = list((tmp_path / "tensorboard").glob("train_inner/events.out.tfevents.*"))
    assert len(events) == 1
    content = events[0].read_bytes()
    assert all(tag in content for tag in (b"loss", b"nll_vmf", b"cos", b"kappa", b"lr"))

    # four real Adam updates later the tied table in the checkpoint is the file's, bit for
    # bit, and the optimizer holds no state for it (it is a buffer, not a parameter)
    import numpy as np
    import torch

    import fairseq_vmf  # noqa: F401  (allow-lists fairseq checkpoints for torch.load)
    from fairseq_vmf.embeddings.target_table import TargetEmbeddingTable

    table = TargetEmbeddingTable.load(prepared / "embeddings" / "fasttext.fr.npz").vectors
    state = torch.load(tmp_path / "ckpt" / "checkpoint_last.pt", map_location="cpu")
    np.testing.assert_array_equal(state["model"]["decoder.output_projection.target_embeddings"].numpy(), table)
    moments = [v for s in state["last_optimizer_state"]["state"].values() for v in s.values() if torch.is_tensor(v)]
    assert moments and table.size not in {m.numel() for m in moments}


def test_translate_text_gives_the_recipe_translations_of_raw_sentences(prepared, tiny_checkpoint):
    # plain sentences in, plain translations out: the same as the recipe's test decode
    import os

    from tests.helpers import REPO

    # one sentence per batch in both: padding in mixed batches moves the near-tied scores of
    # an untrained model enough to change its words; 6 words at most (the recipe's 1.2 x source
    # length + 10 made this the suite's slowest decode, and the length is not what is tested)
    env = dict(os.environ, CKPT=str(tiny_checkpoint), BEAM="2", TAG="text",
               GEN_ARGS="--batch-size 1 --max-len-a 0 --max-len-b 6",
               PATH=f"{command('python').rsplit('/', 1)[0]}:{os.environ['PATH']}")
    save_dir = str(tiny_checkpoint.parent)
    recipe = run(["bash", str(REPO / "scripts" / "translate.sh"), "en", "fr", save_dir, str(prepared)], env=env)
    assert recipe.returncode == 0, recipe.stderr[-3000:]
    expected = (tiny_checkpoint.parent / "test.beam2.text.txt").read_text(encoding="utf-8").splitlines()[:5]
    raw = (prepared / "raw" / "test.en").read_text(encoding="utf-8").splitlines()[:5]
    text = run(["bash", str(REPO / "scripts" / "translate_text.sh"), save_dir, str(prepared)], env=env,
               input="".join(line + "\n" for line in raw))
    assert text.returncode == 0, text.stderr[-3000:]
    assert text.stdout.splitlines() == expected
    missing = run(["bash", str(REPO / "scripts" / "translate_text.sh"), save_dir, str(prepared / "nowhere")],
                  env=env, input="x\n")
    assert missing.returncode == 2 and "prepare.json not found" in missing.stderr
