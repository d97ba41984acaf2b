"""scripts/seed_table.sh option checks and the report built from recorded rows."""

import gzip
import json
import subprocess
import sys

import pytest

from tests.helpers import REPO, recipe_env, run


def test_unknown_row_is_refused_before_any_work(tmp_path):
    result = run(["bash", str(REPO / "scripts/seed_table.sh"), "en", "fr", "ce_word_word nope"], cwd=tmp_path,
                 env=recipe_env())
    assert result.returncode == 2 and "unknown row 'nope'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_report_arranges_recorded_rows_in_the_paper_order(tmp_path):
    results = tmp_path / "seed_table"
    (results / "en-fr" / "ft_vmf_reg12_tied").mkdir(parents=True)
    with gzip.open(results / "en-fr" / "ft_vmf_reg12_tied" / "train.log.gz", "wt") as log:
        log.write("Namespace(activation_dropout=0.0, attention_dropout=0.1, dropout=0.3, encoder_layerdrop=0)\n"
                  "continuous output layer: 38400 trainable parameters ...; model: 2345678 trainable\n")
    rows = [{"pair": "en-fr", "system": "ft_vmf_reg12_tied", "split": "test", "beam": b, "bleu": v, "chrf": 60.0 + b,
             "signature": "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0", "updates": 5000,
             "hyp": f"h{b}.txt", "train_command": "scripts/seed_table.sh en fr ft_vmf_reg12_tied: train.sh vmf d "
                                                  "(RESUME=1 TIED=1 MAX_UPDATE=5000)"} for b, v in ((1, 40.5), (5, 41.25))]
    rows.append({**rows[1], "system": "ce_word_word", "pair": "fr-en", "bleu": 50.0, "train_command": "train.sh"})
    (results / "fr-en" / "ce_word_word").mkdir(parents=True)
    with gzip.open(results / "fr-en" / "ce_word_word" / "train.log.gz", "wt") as log:  # fairseq's own lines
        log.write("Namespace(attention_dropout=0.0, dropout=0.1)\n"
                  "| num. shared model params: 2,963,456 (num. trained: 2,963,456)\n"
                  "| num. expert model params: 0 (num. trained: 0)\n")
    (results / "summary.json").write_text(json.dumps({"rows": rows}))
    # the row's measured cost: 1.6 updates/s, so 5000 updates are 5000 / 1.6 / 60 = 52.1 CPU minutes
    cost = subprocess.run([sys.executable, str(REPO / "scripts/seed_table_report.py"), "--results", str(results),
                           "record-cost", "--pair", "en-fr", "--row", "ft_vmf_reg12_tied", "--updates-per-s", "1.6",
                           "--updates-run", "80", "--log", "x.log.gz"], capture_output=True, text=True)
    assert cost.returncode == 0, cost.stderr
    result = subprocess.run([sys.executable, str(REPO / "scripts/seed_table_report.py"), "--results", str(results)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    table = json.loads((tmp_path / "seed_table.json").read_text())["rows"]
    assert [r["row"] for r in table][:3] == ["ce_word_word", "ce_word_bpe", "ce_bpe_bpe"] and len(table) == 16
    tied = next(r for r in table if r["row"] == "ft_vmf_reg12_tied")
    assert tied["directions"]["en-fr"] == {"bleu_greedy": 40.5, "bleu_beam5": 41.25, "chrf_beam5": 65.0,
                                           "updates": 5000, "budget": 5000, "hyp_beam5": "h5.txt",
                                           "trainable_parameters": 2345678, "dropout": 0.3, "cpu_minutes": 52.1,
                                           "valid_gain_last_fifth": None}
    assert tied["paper_bleu"] == {"fr-en": 32.1, "de-en": 25.1, "en-fr": 31.7}
    markdown = (tmp_path / "seed_table.md").read_text()
    assert "| ft_vmf_reg12_tied | fastText | yes | word->emb | NLLvMF reg1+reg2 | not run | not run | " \
           "40.5 / 41.25 / 65.0 / 5000 of 5000 / 52.1 | 2345678 | 32.1 / 25.1 / 31.7 |" in markdown
    # fr-en comes first; a row without its greedy decode shows "-" there
    assert "| ce_word_word | - | no | word->word | CE | - / 50.0 / 65.0 / 5000 / - | not run | not run | 2963456 |" \
        in markdown
    # cells trained with different dropouts (the softmax recipe changed) are named, from the logs
    assert "Dropout, read from each cell's training log: 0.1: ce_word_word fr-en; 0.3: ft_vmf_reg12_tied en-fr." \
        in markdown
    # a row run in two directions whose vocabularies differ shows each direction's parameters
    (results / "en-fr" / "ce_word_word").mkdir(parents=True)
    with gzip.open(results / "en-fr" / "ce_word_word" / "train.log.gz", "wt") as log:
        log.write("Namespace(dropout=0.1)\n| num. shared model params: 3,012,608 (num. trained: 3,012,608)\n")
    rows.append({**rows[-1], "pair": "en-fr", "bleu": 55.0})
    (results / "summary.json").write_text(json.dumps({"rows": rows}))
    rebuilt = subprocess.run([sys.executable, str(REPO / "scripts/seed_table_report.py"), "--results", str(results)],
                             capture_output=True, text=True)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "| - / 55.0 / 65.0 / 5000 / - | fr-en 2963456; en-fr 3012608 |" in (tmp_path / "seed_table.md").read_text()


def _same_training_module():
    sys.path.insert(0, str(REPO / "scripts"))
    import same_training
    return same_training


def _stored_run(tmp_path, argv):
    """A checkpoint holding the configuration fairseq-train stores for ``argv``."""
    import torch
    from omegaconf import OmegaConf
    cfg = OmegaConf.to_container(_same_training_module().build_cfg(argv), resolve=True, enum_to_str=True)
    path = tmp_path / "run" / "checkpoint_last.pt"
    path.parent.mkdir()
    torch.save({"cfg": cfg, "model": {}}, path)
    return path


def _softmax_argv(data, *extra):
    return [str(data), "--user-dir", str(REPO / "fairseq_vmf"), "--task", "translation",
            "--arch", "softmax_transformer_tiny", "--share-decoder-input-output-embed",
            "--criterion", "label_smoothed_cross_entropy", "--label-smoothing", "0.1",
            "--optimizer", "adam", "--lr", "5e-3", "--max-update", "3000", "--save-dir", "x", *extra]


def test_same_training_accepts_only_the_runs_own_command(tmp_path):
    import torch
    data = tmp_path / "bin"
    data.mkdir()
    (data / "dict.fr.txt").write_text("le 3\n")
    checkpoint = _stored_run(tmp_path, _softmax_argv(data))
    same = run([sys.executable, str(REPO / "scripts/same_training.py"), "--checkpoint", str(checkpoint), "--",
                *_softmax_argv(data, "--save-dir", "elsewhere", "--num-workers", "3")])
    assert same.returncode == 0 and "same training" in same.stdout, same.stdout + same.stderr
    module = _same_training_module()
    stored = torch.load(checkpoint, weights_only=False)["cfg"]

    def differences(argv):
        return module.differences(stored, module.build_cfg(argv), module.default_cfg(argv))

    # fairseq's own architecture name for the same class and the same hyperparameters
    plain_arch = [a if a != "softmax_transformer_tiny" else "transformer" for a in _softmax_argv(data)]
    plain_arch += ["--encoder-layers", "4", "--decoder-layers", "4", "--encoder-embed-dim", "128",
                   "--decoder-embed-dim", "128", "--encoder-ffn-embed-dim", "256", "--decoder-ffn-embed-dim", "256",
                   "--encoder-attention-heads", "4", "--decoder-attention-heads", "4", "--dropout", "0.3"]
    assert differences(plain_arch) == []
    # a copy of the data folder is the same data; a changed file is not
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "dict.fr.txt").write_text("le 3\n")
    assert differences(_softmax_argv(copy)) == []
    (copy / "dict.fr.txt").write_text("la 3\n")
    assert any(line.startswith("task.data:") for line in differences(_softmax_argv(copy)))
    changed = [a if a != "0.1" else "0.2" for a in _softmax_argv(data, "--max-update", "5000", "--seed", "2",
                                                                   "--dropout", "0.1")]
    found = " ".join(differences(changed))
    for key in ("optimization.max_update", "common.seed", "criterion.label_smoothing", "model.dropout"):
        assert key in found, (key, found)
    # train.sh resumes a run only as the same training, but lets its budget grow
    longer = _softmax_argv(data, "--max-update", "5000")
    assert any(line.startswith("optimization.max_update:") for line in differences(longer))
    assert module.differences(stored, module.build_cfg(longer), module.default_cfg(longer), {"max_update"}) == []
    untied = [a for a in _softmax_argv(data) if a != "--share-decoder-input-output-embed"]
    assert "share_decoder_input_output_embed" in " ".join(differences(untied))


def test_reuse_is_refused_before_any_work_when_it_names_no_run(tmp_path):
    for reuse, message in (("nope=checkpoints/x", "not ROW=DIR with a known row"),
                           ("vmf_recipe", "not ROW=DIR with a known row"),
                           (f"vmf_recipe={tmp_path}", "no checkpoint_last.pt and checkpoint_best.pt")):
        result = run(["bash", str(REPO / "scripts/seed_table.sh"), "en", "fr", "vmf_recipe"], cwd=tmp_path,
                     env=recipe_env(REUSE=reuse))
        assert result.returncode == 2 and message in result.stderr, (reuse, result.stderr)
        assert list(tmp_path.iterdir()) == []


def small_raw_corpus(multi30k_dir, raw):
    """The first 200 training, 10 valid and 10 test lines of Multi30k en-fr, as a RAW_DIR."""
    raw.mkdir()
    for stem, size in {"train": 200, "val": 10, "test_2016_flickr": 10}.items():
        for lang in ("en", "fr"):
            with gzip.open(multi30k_dir / f"{stem}.{lang}.gz", "rt", encoding="utf-8") as src, \
                    gzip.open(raw / f"{stem}.{lang}.gz", "wt", encoding="utf-8") as dst:
                dst.writelines(next(src) for _ in range(size))
    return raw


SMALL_ROWS_ENV = {"EMBED_ARGS": "--dim 16 --bucket 2000 --epoch 2", "SOFTMAX_UPDATES": "4", "MAX_TOKENS": "1024"}


@pytest.fixture(scope="module")
def cost_run(multi30k_dir, tmp_path_factory):
    """One COST_UPDATES=20 run of two rows on 200 lines (a CE row and a row with several
    flags), shared by the tests below: each run pays data preparation and fairseq's start-up."""
    base = tmp_path_factory.mktemp("seed_table")
    env = recipe_env(RAW_DIR=str(small_raw_corpus(multi30k_dir, base / "raw")), **SMALL_ROWS_ENV)
    work = base / "work"
    work.mkdir()
    measured = run(["bash", str(REPO / "scripts/seed_table.sh"), "en", "fr", "ce_word_word ft_max_margin"], cwd=work,
                   env={**env, "COST_UPDATES": "20"})
    assert measured.returncode == 0, measured.stderr[-3000:]
    return work, env


def test_rows_measure_and_reuse_through_the_script(cost_run):
    """The script end to end on 200 lines: COST_UPDATES measures a row's own command; a run
    trained with the row's settings (by train_in_stages.sh, which stops it at its first stage) is
    taken by REUSE only when the row's command is the one it was trained with, and the row's
    decodes are recorded from it; train_in_stages.sh then resumes the run to its cap."""
    work, env = cost_run
    script = ["bash", str(REPO / "scripts/seed_table.sh"), "en", "fr", "ce_word_word"]
    results = work / "results" / "seed_table"
    cost = json.loads((results / "per_update_cost.json").read_text())["en-fr"]["ce_word_word"]
    assert cost["updates_run"] == 20 and abs(cost["s_per_update"] * cost["updates_per_s"] - 1) < 0.01
    with gzip.open(results / "per_update_cost" / "en-fr.ce_word_word.log.gz", "rt") as log:
        assert "num_updates 20" in log.read()
    assert not (results / "summary.json").exists() and not (work / "checkpoints").exists()

    # the earlier run, trained in stages (scripts/train_in_stages.sh; 5 updates an epoch, validated each
    # epoch, valid BLEU 0 throughout): it stops at the first stage whose last-fifth gain is under RISING
    data, earlier = "data/multi30k-word_word.en-fr", work / "earlier_run"
    in_stages = ["bash", str(REPO / "scripts/train_in_stages.sh"), "en", "fr", "softmax", data, str(earlier)]
    trained = run(in_stages, cwd=work, env={**env, "STAGES": "10 15", "RISING": "0.5"})
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "valid BLEU rose 0.0 (< 0.5, or no valid lines) in the last fifth of 10 updates: stopped there" \
        in trained.stdout
    assert (earlier / "stages.txt").read_text() == \
        "MAX_UPDATE=10, stages 10 15: valid BLEU rose 0.0 in the last fifth of 10 updates\n"
    log = (earlier / "train.log").read_text()
    assert "num_updates 10 " in log and "num_updates 11 " not in log
    before = sorted(p.name for p in earlier.iterdir())
    refused = run(script, cwd=work, env={**env, "SOFTMAX_UPDATES": "11", "REUSE": f"ce_word_word={earlier}"})
    assert refused.returncode == 2 and "optimization.max_update: 10 in the run, 11 in the command" in refused.stdout
    assert "not this row's training" in refused.stderr and not (work / "checkpoints").exists()
    # a reused run is taken as it is: one budget, not stages
    staged = run(script, cwd=work, env={**env, "SOFTMAX_UPDATES": "10 15", "REUSE": f"ce_word_word={earlier}"})
    assert staged.returncode == 2 and "give its family one budget, not stages" in staged.stderr
    reused = run(script, cwd=work, env={**env, "SOFTMAX_UPDATES": "10", "REUSE": f"ce_word_word={earlier}"})
    assert reused.returncode == 0, reused.stderr[-3000:]
    rows = json.loads((results / "summary.json").read_text())["rows"]
    assert {(r["split"], r["beam"]) for r in rows} == {("test", 1), ("test", 5), ("valid", 5)}
    assert all(r["updates"] == 10 and f"the same training as {earlier}" in r["train_command"] for r in rows)
    row_dir = work / "checkpoints" / "seed.en-fr.ce_word_word"
    assert (row_dir / "checkpoint_best.pt").resolve() == (earlier / "checkpoint_best.pt").resolve()
    # the decodes are the row's own files; the reused run's folder is as it was
    assert (row_dir / "test.beam5.txt").is_file() and not (row_dir / "test.beam5.txt").is_symlink()
    assert sorted(p.name for p in earlier.iterdir()) == before
    # RISING=0: any gain is enough, so the run resumes and trains on to the cap
    capped = run(in_stages, cwd=work, env={**env, "STAGES": "10 15", "RISING": "0"})
    assert capped.returncode == 0, capped.stderr[-3000:]
    assert "(>= 0) in the last fifth of 10 updates" in capped.stdout
    assert (earlier / "stages.txt").read_text().startswith("MAX_UPDATE=15, stages 10 15: valid BLEU rose 0.0 ")
    assert "num_updates 15 " in (earlier / "train.log").read_text()
    for setting, message in (({"STAGES": ""}, "STAGES='': give a number"), ({"STAGES": "20 10"}, "STAGES='20 10'"),
                             ({"STAGES": "10", "RISING": "-1"}, "RISING=-1: give a BLEU difference")):
        refused = run(in_stages, cwd=work, env={**env, **setting})
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr


def test_a_row_with_several_flags_passes_each_to_train_sh(multi30k_dir, tmp_path, cost_run):
    """ft_max_margin sets LOSS and EXTRA_ARGS: both must reach fairseq-train (a row's flags
    once reached train.sh as one string, LOSS='max_margin EXTRA_ARGS=...')."""
    raw = small_raw_corpus(multi30k_dir, tmp_path / "raw")
    script = ["bash", str(REPO / "scripts/seed_table.sh"), "en", "fr", "ft_max_margin"]
    # fairseq logs a rate every 20 updates: a shorter cost run is refused before any work
    too_short = run(script, cwd=tmp_path, env=recipe_env(RAW_DIR=str(raw), **SMALL_ROWS_ENV, COST_UPDATES="2"))
    assert too_short.returncode == 2 and "COST_UPDATES=2" in too_short.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]
    work, _ = cost_run
    with gzip.open(work / "results/seed_table/per_update_cost/en-fr.ft_max_margin.log.gz", "rt") as log:
        text = log.read()
    assert "'criterion': {'_name': 'max_margin'" in text
    assert "margin_negative='projection'" in text
    # one body for every row: post-norm layers, though train.sh's continuous default is pre-norm
    assert "encoder_normalize_before=False" in text and "decoder_normalize_before=False" in text


def test_report_counts_the_twin_training_in_the_main_rows_time(tmp_path):
    """vmf_main's table is the ce_word_word model's: its CPU time is its own updates at its own
    cost plus the twin's updates (its committed log) at ce_word_word's cost."""
    results = tmp_path / "seed_table"
    row = results / "en-fr" / "vmf_main"
    row.mkdir(parents=True)
    rows = [{"pair": "en-fr", "system": "vmf_main", "split": "test", "beam": 5, "bleu": 57.0, "chrf": 72.0,
             "signature": "s", "updates": 3600, "hyp": "h.txt"}]
    (results / "summary.json").write_text(json.dumps({"rows": rows}))

    def report():
        result = subprocess.run([sys.executable, str(REPO / "scripts/seed_table_report.py"), "--results",
                                 str(results)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        table = json.loads((tmp_path / "seed_table.json").read_text())["rows"]
        return next(r for r in table if r["row"] == "vmf_main")["directions"]["en-fr"]["cpu_minutes"]

    for name, ups in (("vmf_main", 2.0), ("ce_word_word", 1.25)):
        subprocess.run([sys.executable, str(REPO / "scripts/seed_table_report.py"), "--results", str(results),
                        "record-cost", "--pair", "en-fr", "--row", name, "--updates-per-s", str(ups),
                        "--updates-run", "80", "--log", "x.log.gz"], check=True)
    # without the twin's log its time is unknown: no number rather than a number too small
    assert report() is None
    with gzip.open(row / "softmax_twin.train.log.gz", "wt") as log:
        log.write("epoch 040 | valid on 'valid' subset | bleu 55.1 | num_updates 2950\n"
                  "epoch 041 | valid on 'valid' subset | bleu 55.3 | num_updates 3000\n")
    # 3600 / 2.0 + 3000 / 1.25 = 1800 + 2400 s = 70.0 minutes
    assert report() == 70.0


def test_main_row_takes_its_table_from_the_ce_word_word_model(multi30k_dir, tmp_path):
    """vmf_main end to end on 200 lines: the twin is trained in the ce_word_word row's folder
    (its table written from it), the row trains in stages (MAIN_UPDATES, as at convergence) with
    train.sh's vmf defaults on that table, its twin's log is committed beside it, and the
    ce_word_word row then decodes that same run; a cost run takes the finished twin's table
    (written again from its checkpoints), never trains it."""
    raw = small_raw_corpus(multi30k_dir, tmp_path / "raw")
    env = recipe_env(RAW_DIR=str(raw), **SMALL_ROWS_ENV, MAIN_UPDATES="5 10", RISING="0")
    script = ["bash", str(REPO / "scripts/seed_table.sh"), "en", "fr"]
    # a cost run trains nothing: without a finished ce_word_word run it has no table to measure with
    refused = run(script + ["vmf_main"], cwd=tmp_path, env={**env, "COST_UPDATES": "20"})
    assert refused.returncode == 2 and "no finished ce_word_word run" in refused.stderr
    assert not (tmp_path / "checkpoints").exists()
    main_row = run(script + ["vmf_main"], cwd=tmp_path, env=env)
    assert main_row.returncode == 0, main_row.stderr[-3000:]
    twin = tmp_path / "checkpoints" / "seed.en-fr.ce_word_word"
    table = tmp_path / "data/multi30k-word_word.en-fr/embeddings/seed.en-fr.ce_word_word.fr.npz"
    assert (twin / "checkpoint_last.pt").is_file() and table.is_file()
    results = tmp_path / "results" / "seed_table"
    rows = json.loads((results / "summary.json").read_text())["rows"]
    assert {(r["system"], r["split"], r["beam"], r["updates"]) for r in rows} == \
        {("vmf_main", "test", 1, 5), ("vmf_main", "test", 5, 5), ("vmf_main", "valid", 5, 5)}
    # 5 updates an epoch: one valid line by the first stage, too few to measure a gain, so it stops
    # there (the budget the report shows; stages going on are tested with test_rows_measure_...)
    assert all(r["train_command"].endswith(
        " MAX_UPDATE=5, stages 5 10: valid BLEU rose none in the last fifth of 5 updates)") for r in rows)
    with gzip.open(results / "en-fr" / "vmf_main" / "train.log.gz", "rt") as log:
        text = log.read()
    # the main job's settings, not the paper rows' post-norm body without the renormalised term
    assert "encoder_normalize_before=True" in text and "vmf_table_nll_weight=10.0" in text
    assert f"target_embeddings='{table.relative_to(tmp_path)}'" in text
    with gzip.open(results / "en-fr" / "vmf_main" / "softmax_twin.train.log.gz", "rt") as log:
        assert "num_updates 4" in log.read()
    twin_log = (twin / "train.log").read_text()
    ce_row = run(script + ["ce_word_word"], cwd=tmp_path, env=env)
    assert ce_row.returncode == 0, ce_row.stderr[-3000:]
    assert "nothing to train" in ce_row.stderr and (twin / "train.log").read_text() == twin_log
    rows = json.loads((results / "summary.json").read_text())["rows"]
    assert {r["updates"] for r in rows if r["system"] == "ce_word_word"} == {4}
    # with the twin finished, a cost run writes its table again from its checkpoints and measures
    table.unlink()
    measured = run(script + ["vmf_main"], cwd=tmp_path, env={**env, "COST_UPDATES": "20"})
    assert measured.returncode == 0, measured.stderr[-3000:]
    assert table.is_file() and (twin / "train.log").read_text() == twin_log
    cost = json.loads((results / "per_update_cost.json").read_text())["en-fr"]["vmf_main"]
    assert cost["updates_run"] == 20


@pytest.mark.parametrize("setting, message", [
    ({"CONTINUOUS_UPDATES": "8000 6000"}, "CONTINUOUS_UPDATES='8000 6000': give a number of updates, or rising"),
    ({"SOFTMAX_UPDATES": "3000 x"}, "SOFTMAX_UPDATES='3000 x'"),
    ({"SOFTMAX_UPDATES": "0"}, "SOFTMAX_UPDATES='0'"),
    ({"MAIN_UPDATES": "6000 4000"}, "MAIN_UPDATES='6000 4000': give a number of updates, or rising"),
    ({"RISING": "half"}, "RISING=half: give a BLEU difference"),
    ({"BUDGETS_FROM": "de-en"}, "results/seed_table/summary.json has no recorded de-en ce_word_word row"),
])
def test_budgets_are_checked_before_any_work(tmp_path, setting, message):
    result = run(["bash", str(REPO / "scripts/seed_table.sh"), "en", "fr", "ce_word_word"], cwd=tmp_path,
                 env=recipe_env(**setting))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []

