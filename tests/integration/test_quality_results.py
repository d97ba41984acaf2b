"""scripts/quality_results.py: record a decode, then re-score it from the committed files."""

import gzip
import json
from pathlib import Path

import sacrebleu
import torch

from tests.helpers import REPO, command, run

SCRIPT = str(REPO / "scripts" / "quality_results.py")


def test_add_records_a_rescorable_row_and_table_rescores_it(tmp_path):
    references = ["Un chien court sur la plage .", "Deux femmes  parlent .", "Un homme lit ."]
    hypotheses = ["Un chien court sur la plage .", "Deux femmes discutent .", "Une homme lit ."]
    raw = tmp_path / "raw"
    raw.mkdir()
    with gzip.open(raw / "test_2016_flickr.fr.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(references) + "\n")
    prepared_ref = tmp_path / "test.fr"  # fairseq-vmf-prepare collapses whitespace runs
    prepared_ref.write_text("\n".join(" ".join(r.split()) for r in references) + "\n", encoding="utf-8")
    save = tmp_path / "save"
    save.mkdir()
    (save / "train.log").write_text("epoch 1 | loss 3.2\n", encoding="utf-8")
    (save / "test_decodes.log").write_text("2026-12-01T00:00:00Z fairseq-generate ...\n", encoding="utf-8")
    torch.save({"optimizer_history": [{"num_updates": 1234}]}, save / "checkpoint_best.pt")
    (save / "test.beam5.txt").write_text("\n".join(hypotheses) + "\n", encoding="utf-8")
    (save / "test.beam5.command").write_text("fairseq-generate data/bin --beam 5\n", encoding="utf-8")
    results = tmp_path / "results"

    added = run([command("python"), SCRIPT, "--results", str(results), "add", "--pair", "en-fr",
                 "--system", "softmax_word_word", "--split", "test", "--beam", "5", "--save-dir", str(save),
                 "--output", str(save / "test.beam5"), "--ref", str(prepared_ref), "--train-command", "train.sh"])
    assert added.returncode == 0, added.stderr
    row = json.loads((results / "summary.json").read_text())["rows"][0]
    expected = sacrebleu.corpus_bleu(hypotheses, [[" ".join(r.split()) for r in references]]).score
    assert row["bleu"] == round(expected, 2) and row["updates"] == 1234
    assert row["command"] == "fairseq-generate data/bin --beam 5" and row["train_command"] == "train.sh"
    assert "nrefs:1|case:mixed|eff:no|tok:13a" in row["signature"]
    folder = results / "en-fr" / "softmax_word_word"
    assert (folder / "test.beam5.txt").read_text().splitlines() == hypotheses
    assert gzip.open(folder / "train.log.gz", "rt").read() == "epoch 1 | loss 3.2\n"
    assert (folder / "test_decodes.log").is_file()

    table = run([command("python"), SCRIPT, "--results", str(results), "table", "--raw-dir", str(raw)])
    assert table.returncode == 0, table.stderr
    assert f"| en-fr | softmax_word_word | test | 5 | {expected:.2f} |" in table.stdout

    # a hypothesis file edited after the fact no longer matches its recorded score
    (folder / "test.beam5.txt").write_text("\n".join(references) + "\n", encoding="utf-8")
    stale = run([command("python"), SCRIPT, "--results", str(results), "table", "--raw-dir", str(raw)])
    assert stale.returncode != 0 and "summary says" in stale.stderr


def test_another_seed_is_its_own_row_and_keeps_the_first_seeds_files(tmp_path):
    references = ["Un chien court .", "Un homme lit ."]
    raw = tmp_path / "raw"
    raw.mkdir()
    with gzip.open(raw / "test_2016_flickr.fr.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(references) + "\n")
    ref = tmp_path / "test.fr"
    ref.write_text("\n".join(references) + "\n", encoding="utf-8")
    results = tmp_path / "results"
    for seed, hypotheses in [(1, references), (2, ["Un chat court .", "Un homme lit ."])]:
        save = tmp_path / f"save{seed}"
        save.mkdir()
        (save / "train.log").write_text(f"seed {seed}\n", encoding="utf-8")
        torch.save({"optimizer_history": [{"num_updates": 100 * seed}]}, save / "checkpoint_best.pt")
        (save / "test.beam5.txt").write_text("\n".join(hypotheses) + "\n", encoding="utf-8")
        (save / "test.beam5.command").write_text("fairseq-generate\n", encoding="utf-8")
        added = run([command("python"), SCRIPT, "--results", str(results), "add", "--pair", "en-fr",
                     "--system", "main", "--seed", str(seed), "--split", "test", "--beam", "5",
                     "--save-dir", str(save), "--output", str(save / "test.beam5"), "--ref", str(ref),
                     "--train-command", "main.sh"])
        assert added.returncode == 0, added.stderr
    rows = json.loads((results / "summary.json").read_text())["rows"]
    assert [(r.get("seed", 1), r["updates"]) for r in rows] == [(1, 100), (2, 200)]
    assert "seed" not in rows[0] and rows[1]["hyp"].endswith("en-fr/main/seed2/test.beam5.txt")
    assert gzip.open(results / "en-fr" / "main" / "train.log.gz", "rt").read() == "seed 1\n"
    assert gzip.open(results / "en-fr" / "main" / "seed2" / "train.log.gz", "rt").read() == "seed 2\n"
    table = run([command("python"), SCRIPT, "--results", str(results), "table", "--raw-dir", str(raw)])
    assert table.returncode == 0, table.stderr
    assert "| en-fr | main | test | 5 | 100.00 |" in table.stdout
    assert "| en-fr | main (seed 2) | test | 5 |" in table.stdout
    second = rows[1]["bleu"]
    mean, sd = (100 + second) / 2, abs(100 - second) / 2 ** 0.5
    assert f"| en-fr | main | test | 5 | 1: 100.00, 2: {second:.2f} | {mean:.2f} ± {sd:.2f} |" in table.stdout
    # the first seed's recipe changed: its rows and folder move to another name, every seed with them
    renamed = run([command("python"), SCRIPT, "--results", str(results), "rename", "--pair", "en-fr",
                   "--system", "main", "--to", "main_old"])
    assert renamed.returncode == 0, renamed.stderr
    rows = json.loads((results / "summary.json").read_text())["rows"]
    assert [r["system"] for r in rows] == ["main_old", "main_old"] and not (results / "en-fr" / "main").exists()
    assert rows[1]["hyp"].endswith("en-fr/main_old/seed2/test.beam5.txt") and Path(rows[1]["hyp"]).is_file()
    table = run([command("python"), SCRIPT, "--results", str(results), "table", "--raw-dir", str(raw)])
    assert table.returncode == 0 and "| en-fr | main_old (seed 2) | test | 5 |" in table.stdout
    for system, to, message in [("main", "x", "has no rows of en-fr main"),
                                ("main_old", "main_old", "en-fr main_old already exists"),
                                ("main_old", "../x", "use letters, digits")]:
        refused = run([command("python"), SCRIPT, "--results", str(results), "rename", "--pair", "en-fr",
                       "--system", system, "--to", to])
        assert refused.returncode == 1 and message in refused.stderr
    # a row whose hypotheses are gone is named, and nothing moves
    Path(rows[0]["hyp"]).unlink()
    refused = run([command("python"), SCRIPT, "--results", str(results), "rename", "--pair", "en-fr",
                   "--system", "main_old", "--to", "main_new"])
    assert refused.returncode == 1 and "test.beam5.txt is not a file in" in refused.stderr
    assert (results / "en-fr" / "main_old").is_dir() and not (results / "en-fr" / "main_new").exists()
    assert json.loads((results / "summary.json").read_text())["rows"] == rows


def test_rows_recorded_outside_the_repository_can_be_renamed_and_rescored(tmp_path):
    """A relative --results from a folder outside the checkout (as scripts/seed_table.sh passes
    it) is stored as an absolute path: a path relative to that folder would be read from the
    repository root by ``table`` and ``rename``."""
    references = ["Un chien court .", "Un homme lit ."]
    raw = tmp_path / "raw"
    raw.mkdir()
    with gzip.open(raw / "test_2016_flickr.fr.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(references) + "\n")
    (tmp_path / "test.fr").write_text("\n".join(references) + "\n", encoding="utf-8")
    save = tmp_path / "save"
    save.mkdir()
    (save / "train.log").write_text("log\n", encoding="utf-8")
    torch.save({"optimizer_history": [{"num_updates": 7}]}, save / "checkpoint_best.pt")
    (save / "test.beam5.txt").write_text("\n".join(references) + "\n", encoding="utf-8")
    (save / "test.beam5.command").write_text("fairseq-generate\n", encoding="utf-8")
    added = run([command("python"), SCRIPT, "--results", "results", "add", "--pair", "en-fr", "--system", "ce",
                 "--split", "test", "--beam", "5", "--save-dir", "save", "--output", "save/test.beam5",
                 "--ref", "test.fr", "--train-command", "train.sh"], cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    hyp = Path(json.loads((tmp_path / "results" / "summary.json").read_text())["rows"][0]["hyp"])
    assert hyp == tmp_path / "results" / "en-fr" / "ce" / "test.beam5.txt"
    renamed = run([command("python"), SCRIPT, "--results", "results", "rename", "--pair", "en-fr", "--system", "ce",
                   "--to", "ce_old"], cwd=tmp_path)
    assert renamed.returncode == 0, renamed.stderr
    table = run([command("python"), SCRIPT, "--results", str(tmp_path / "results"), "table", "--raw-dir", str(raw)])
    assert table.returncode == 0 and "| en-fr | ce_old | test | 5 | 100.00 |" in table.stdout, table.stderr
