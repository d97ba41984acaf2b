"""scripts/seed_table_report.py's tables under the main one: ranks among the paper's rows,
Spearman's rho against scipy, and each cell's valid BLEU gained in its last fifth of updates."""

import importlib.util
import math

import pytest
from scipy.stats import spearmanr

from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("seed_table_report", REPO / "scripts" / "seed_table_report.py")
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def entry(row, segmentation, ours, paper):
    """ours / paper: {direction: BLEU}; a direction missing from ``ours`` is not run."""
    return {"row": row, "segmentation": segmentation,
            "paper_bleu": {d: paper.get(d) for d in report.DIRECTIONS},
            "directions": {d: {"bleu_beam5": v} for d, v in ours.items()}}


@pytest.mark.parametrize("xs, ys", [
    ([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]),
    ([4.0, 3.0, 2.0, 1.0], [10.0, 20.0, 30.0, 40.0]),
    ([49.85, 50.7, 50.57, 10.69, 34.79, 22.2], [31.0, 29.1, 31.4, 27.2, 29.1, 29.6]),  # ties in ys
    ([25.0, 25.0, 21.4, 22.7, 25.0], [1.0, 3.0, 2.0, 2.0, 5.0]),  # ties on both sides
])
def test_spearman_matches_scipy(xs, ys):
    assert report.spearman(xs, ys) == pytest.approx(spearmanr(xs, ys).statistic, abs=1e-12)


def test_spearman_of_a_constant_is_not_a_number():
    assert math.isnan(report.spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))


def test_glance_ranks_only_the_papers_rows_and_shares_ties():
    table = [
        entry("ce_word_word", "word->word", {"en-fr": 55.5, "fr-en": 49.9}, {"en-fr": 29.3, "fr-en": 31.0}),
        entry("ft_max_margin", "word->emb", {"en-fr": 34.3}, {"en-fr": 29.0, "fr-en": 31.0}),
        entry("ft_max_margin_tied", "word->emb", {"en-fr": 34.3, "fr-en": 20.3}, {"en-fr": 31.0, "fr-en": 32.1}),
        entry("w2v_l2", "word->emb", {"en-fr": 14.9, "fr-en": 10.7}, {"en-fr": 26.4, "fr-en": 27.2}),
        entry("vmf_main", "word->emb", {"en-fr": 57.1, "fr-en": 51.4}, {}),  # an extra row: no paper score
    ]
    lines = report.at_a_glance(table)
    rows = {line.split(" | ")[0][2:]: line for line in lines if line.startswith("| ") and "---" not in line}
    # en-fr: 55.5 first, the two 34.3 share second, 14.9 fourth; the extra row is shown but not ranked
    assert "| 55.5 (1) [29.3 (2)] |" in rows["ce_word_word"]
    assert "| 34.3 (2) [29.0 (3)] |" in rows["ft_max_margin"] and "not run [31.0 (2)]" in rows["ft_max_margin"]
    assert "| 34.3 (2) [31.0 (1)] |" in rows["ft_max_margin_tied"]
    assert "| 14.9 (4) [26.4 (4)] |" in rows["w2v_l2"]
    assert rows["vmf_main"].endswith("| 57.1 |") and "51.4 |" in rows["vmf_main"] and "(" not in rows["vmf_main"]
    text = "\n".join(lines)
    # rho over the rows both have in a direction; the continuous-only line leaves ce_word_word out
    en_fr = spearmanr([55.5, 34.3, 34.3, 14.9], [29.3, 29.0, 31.0, 26.4]).statistic
    en_fr_continuous = spearmanr([34.3, 34.3, 14.9], [29.0, 31.0, 26.4]).statistic
    fr_en = spearmanr([49.9, 20.3, 10.7], [31.0, 32.1, 27.2]).statistic
    assert f"over the rows both have (1: the same order; 0: unrelated): fr-en {fr_en:.2f} (3 rows)" in text
    assert f"en-fr {en_fr:.2f} (4 rows)." in text
    assert f"over the continuous rows (word->emb) only (1: the same order; 0: unrelated): en-fr " \
           f"{en_fr_continuous:.2f} (3 rows)." in text  # fr-en has 2 continuous rows only: no figure


def valid_line(updates, bleu):
    return (f"2026-12-06 07:00:00 | INFO | valid | epoch 001 | valid on 'valid' subset | loss 3.1 | bleu {bleu} "
            f"| nn_acc 55.1 | wps 4000 | num_updates {updates} | best_bleu 99.0")


@pytest.mark.parametrize("curve, gain", [
    # best up to 4,000 updates (80% of 5,000) is 30.0; the best overall 31.5, at 4,902
    ([(1000, 20.0), (3000, 30.0), (4000, 29.0), (4902, 31.5), (5000, 31.0)], 1.5),
    # flat at the end: the best came early, nothing gained after it
    ([(1000, 20.0), (2000, 33.0), (4500, 32.0), (5000, 32.9)], 0.0),
])
def test_late_gain_is_the_best_valid_bleu_gained_in_the_last_fifth(curve, gain):
    text = "\n".join(["Namespace(dropout=0.3)"] + [valid_line(u, b) for u, b in curve]) + "\n"
    assert report.late_gain(text) == pytest.approx(gain)


def test_late_gain_without_validations_is_unknown():
    assert report.late_gain("Namespace(dropout=0.3)\n") is None
    assert report.late_gain(None) is None


def test_still_rising_shows_each_cell_signed():
    table = [{"row": "w2v_l2", "directions": {"en-fr": {"valid_gain_last_fifth": 2.35},
                                               "fr-en": {"valid_gain_last_fifth": None}}}]
    assert "| w2v_l2 | - | not run | +2.35 |" in report.still_rising(table)


def test_late_gain_command_reads_plain_and_gzipped_logs(tmp_path):
    """seed_table.sh decides from this output whether a row trains on to its next stage."""
    import gzip
    import subprocess
    import sys
    text = "\n".join(valid_line(u, b) for u, b in [(1000, 20.0), (3000, 30.0), (4902, 31.5), (5000, 31.0)]) + "\n"
    (tmp_path / "train.log").write_text(text)
    with gzip.open(tmp_path / "train.log.gz", "wt") as log:
        log.write(text)
    (tmp_path / "empty.log").write_text("Namespace(dropout=0.3)\n")
    script = [sys.executable, str(REPO / "scripts" / "seed_table_report.py"), "late-gain"]
    for name, printed in (("train.log", "1.5"), ("train.log.gz", "1.5"), ("empty.log", "none")):
        done = subprocess.run(script + [str(tmp_path / name)], capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.strip() == printed, (name, done.stdout, done.stderr)
    missing = subprocess.run(script + [str(tmp_path / "nope.log")], capture_output=True, text=True)
    assert missing.returncode != 0 and "nope.log: no such training log" in missing.stderr


@pytest.mark.parametrize("command, budget", [
    ("scripts/seed_table.sh en fr w2v_l2: train.sh vmf data/x (RESUME=1 PRE_NORM=0 MAX_UPDATE=5000 TIED=0)", 5000),
    # a row trained in stages names the stage it stopped at
    ("... (RESUME=1 TIED=1 MAX_UPDATE=12000), stages 8000 12000 16000: valid BLEU rose 0.2 in the last fifth "
     "of 12000 updates", 12000),
    ("train.sh vmf data/x (RESUME=1)", None),
    (None, None),
])
def test_budget_is_read_from_the_recorded_training_command(command, budget):
    assert report.budget(command) == budget


def test_budget_of_prints_the_budget_another_pair_reached(tmp_path):
    """seed_table.sh BUDGETS_FROM=PAIR trains each row to what this prints for PAIR's row."""
    import json
    import subprocess
    import sys
    rows = [{"pair": "en-fr", "system": "w2v_l2", "split": "test", "beam": b,
             "train_command": f"scripts/seed_table.sh en fr w2v_l2: train.sh vmf d (TIED=0 MAX_UPDATE={n}), stages "
                              "8000 12000 16000: valid BLEU rose 0.3 in the last fifth of 12000 updates"}
            for b, n in ((1, 12000), (5, 12000))]
    rows.append({**rows[1], "system": "w2v_cosine", "train_command": "train.sh vmf d (TIED=0)"})
    (tmp_path / "summary.json").write_text(json.dumps({"rows": rows}))
    script = [sys.executable, str(REPO / "scripts" / "seed_table_report.py"), "--results", str(tmp_path), "budget-of",
              "--pair", "en-fr", "--row"]
    found = subprocess.run(script + ["w2v_l2"], capture_output=True, text=True)
    assert found.returncode == 0 and found.stdout == "12000\n", found.stderr
    for row in ("w2v_cosine", "w2v_max_margin"):  # no budget recorded; no row
        missing = subprocess.run(script + [row], capture_output=True, text=True)
        assert missing.returncode != 0 and f"has no recorded en-fr {row} row with its budget" in missing.stderr
