"""scripts/plot_time_to_quality.py: CPU time at side-by-side per-update costs, from hand-made logs."""

import importlib.util
import json

import pytest

from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("plot_time_to_quality", REPO / "scripts" / "plot_time_to_quality.py")
ttq = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ttq)


def write_log(path, epochs):
    """epochs: [(updates, bleu, train_wall, wall)]; one valid and one end-of-epoch line each."""
    lines = ["2026-12-03 10:00:00 | INFO | fairseq_cli.train | start"]
    for epoch, (updates, bleu, train_wall, wall) in enumerate(epochs, 1):
        stamp = f"2026-12-03 10:{epoch:02d}:00 | INFO"
        lines.append(f"{stamp} | valid | epoch {epoch:03d} | valid on 'valid' subset | loss 3.1 | bleu {bleu} "
                     f"| wps 4000 | num_updates {updates}")
        lines.append(f"{stamp} | train | epoch {epoch:03d} | loss 3.2 | ups 1.2 | num_updates {updates} "
                     f"| lr 0.001 | gnorm 0.5 | train_wall {train_wall} | wall {wall}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def logs(tmp_path):
    # softmax-like: 1.0 s per update that day, 10 s then 20 s of validation
    softmax = write_log(tmp_path / "softmax.log", [(100, 10, 100, 110), (200, 20, 100, 230)])
    # vmf-like: 0.6 s per update that day, 6 s of validation per epoch
    vmf = write_log(tmp_path / "vmf.log", [(100, 15, 60, 66), (200, 20, 60, 132), (300, 22, 60, 198)])
    return softmax, vmf


def test_epoch_seconds_splits_training_from_validation_and_survives_a_resume(tmp_path, logs):
    assert ttq.epoch_seconds(logs[0]) == {1: (100, 100.0, 10.0), 2: (200, 100.0, 20.0)}
    resumed = write_log(tmp_path / "resumed.log", [(100, 1, 50, 60), (200, 2, 50, 55)])  # the clock restarted
    assert ttq.epoch_seconds(resumed) == {1: (100, 50.0, 10.0), 2: (200, 50.0, 5.0)}


def test_cpu_minutes_rescale_validation_by_the_runs_day_factor(logs):
    softmax = ttq.cpu_minutes(ttq.read_log(logs[0]), ttq.epoch_seconds(logs[0]), 0.5)
    # day factor 0.5 / 1.0: (100 x 0.5 + 10 x 0.5) s, then (200 x 0.5 + 30 x 0.5) s
    assert softmax == pytest.approx([55 / 60, 115 / 60])
    vmf = ttq.cpu_minutes(ttq.read_log(logs[1]), ttq.epoch_seconds(logs[1]), 0.3)
    assert vmf == pytest.approx([33 / 60, 66 / 60, 99 / 60])  # factor 0.3 / 0.6


def test_reference_table_and_outputs(tmp_path, logs):
    out = tmp_path / "ttq"
    ttq.main(["--out", str(out), f"softmax={logs[0]}", f"vmf={logs[1]}", "--cost", "softmax=0.5",
              "--cost", "vmf=0.3", "--reference", "softmax", "--below", "8"])
    points = json.loads(out.with_suffix(".json").read_text())
    assert points["vmf"][1] == {"cpu_minutes": 1.1, "epoch": 2, "updates": 200, "bleu": 20.0}
    table = out.with_suffix(".md").read_text()
    assert "softmax's best validation BLEU, 20.00 (softmax: 200 updates, 1.9 minutes)" in table
    assert "| vmf | 200 | 1.1 | 0.57x | 22.00 |" in table  # 1.1 / 1.9167 minutes
    assert "| softmax | 200 | 1.9 | 1.00x | 20.00 |" in table
    # 20 - 8 = 12: softmax first reaches it at 200 updates, vmf at 100 (0.55 / 1.9167 minutes)
    assert "softmax's best validation BLEU, 20.00, minus 8 (12.00) (softmax: 200 updates, 1.9 minutes)" in table
    assert "| vmf | 100 | 0.6 | 0.29x | 22.00 |" in table
    assert out.with_suffix(".png").stat().st_size > 1000


def test_a_system_trained_after_another_starts_where_that_one_ended(tmp_path, logs):
    """--after: the continuous model on the twin's table pays the twin's training first."""
    out = tmp_path / "ttq"
    ttq.main(["--out", str(out), f"softmax={logs[0]}", f"vmf={logs[1]}", "--cost", "softmax=0.5",
              "--cost", "vmf=0.3", "--after", "vmf=softmax", "--reference", "softmax"])
    points = json.loads(out.with_suffix(".json").read_text())
    # softmax ends at 115 s; vmf's own 33, 66, 99 s come after it
    assert [p["cpu_minutes"] for p in points["vmf"]] == pytest.approx([2.47, 3.02, 3.57], abs=0.01)
    assert [p["cpu_minutes"] for p in points["softmax"]] == pytest.approx([0.92, 1.92], abs=0.01)
    table = out.with_suffix(".md").read_text()
    assert "vmf: its times include softmax's 1.9 minutes, trained first." in table
    assert "| vmf | 200 | 3.0 | 1.57x | 22.00 |" in table  # (115 + 66) / 115


@pytest.mark.parametrize("after, message", [
    (["--after", "vmf=sm"], "--after vmf=sm: no system named 'sm'"),
    (["--after", "vmf=vmf"], "--after vmf=vmf: give each system at most one other system to follow"),
    (["--after", "vmf=softmax", "--after", "softmax=vmf"], "cannot itself be followed"),
    (["--after", "vmf"], "'vmf': expected NAME=PRIOR"),
])
def test_bad_after_flags_are_named(tmp_path, logs, capsys, after, message):
    with pytest.raises(SystemExit):
        ttq.main(["--out", str(tmp_path / "ttq"), f"softmax={logs[0]}", f"vmf={logs[1]}", *after])
    assert message in capsys.readouterr().err
    assert not (tmp_path / "ttq.json").exists()


@pytest.mark.parametrize("extra, message", [
    (["--cost", "softmax=0.5"], "--cost is missing for vmf"),
    (["--cost", "softmax=0", "--cost", "vmf=0.3"], "--cost softmax=0: seconds per update must be a positive number"),
    (["--cost", "sm=0.5"], "--cost sm=0.5: no system named 'sm'"),
    (["--cost", "softmax=0.5", "--cost", "vmf=fast"], "--cost vmf=fast: seconds per update must be a positive number"),
    (["--reference", "sm"], "--reference sm: no system of that name"),
    (["--below", "1"], "--below needs --reference"),
    (["--reference", "vmf", "--below", "-1"], "--below: give a positive number"),
])
def test_bad_cost_and_reference_flags_are_named(tmp_path, logs, capsys, extra, message):
    with pytest.raises(SystemExit):
        ttq.main(["--out", str(tmp_path / "ttq"), f"softmax={logs[0]}", f"vmf={logs[1]}", *extra])
    assert message in capsys.readouterr().err
    assert not (tmp_path / "ttq.json").exists()


def test_a_log_without_end_of_epoch_lines_is_named(tmp_path, capsys):
    log = tmp_path / "valid_only.log"
    log.write_text("2026-12-03 10:00:00 | INFO | valid | epoch 001 | valid on 'valid' subset | bleu 3 "
                   "| wps 1 | num_updates 10\n")
    with pytest.raises(SystemExit):
        ttq.main(["--out", str(tmp_path / "ttq"), f"vmf={log}", "--cost", "vmf=0.5"])
    assert "no end-of-epoch" in capsys.readouterr().err
