"""scripts/training_rate.py: the updates per second the cost scripts read from fairseq-train logs."""

import gzip
import importlib.util
import json

import pytest

from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("training_rate", REPO / "scripts" / "training_rate.py")
training_rate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(training_rate)

START = "2026-12-06 06:00:00 | INFO | fairseq_cli.train | Start iterating over samples"


def simple_line(updates, ups):
    return (f"2026-12-06 06:00:{updates // 20:02d} | INFO | train_inner | epoch 001:     {updates} / 114 "
            f"loss=9.31, nll_loss=8.844, wps=5494.9, ups={ups}, wpb=3404.1, num_updates={updates}, "
            f"lr=0.0004, gnorm=1.3, clip=0, train_wall=12, wall=52")


def test_the_last_train_inner_line_gives_the_rate(tmp_path):
    log = tmp_path / "train.log"
    # an end-of-epoch summary after the last interval also carries "ups" but is not train_inner
    summary = "2026-12-06 06:01:10 | INFO | train | epoch 001 | loss 9.1 | ups 1.2 | num_updates 60"
    log.write_text("\n".join([START, simple_line(20, 0.93), simple_line(40, 1.58), simple_line(60, 1.61),
                              summary]) + "\n")
    assert training_rate.last_updates_per_second(log) == 1.61


def test_gzipped_and_json_logs_are_read(tmp_path):
    gz = tmp_path / "train.log.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write(START + "\n" + simple_line(20, 2.49) + "\n")
    assert training_rate.last_updates_per_second(gz) == 2.49
    record = {"epoch": 1, "update": 0.35, "loss": "9.31", "ups": "1.74", "num_updates": "40"}
    as_json = tmp_path / "json.log"
    as_json.write_text(f"2026-12-06 06:00:10 | INFO | train_inner | {json.dumps(record)}\n")
    assert training_rate.last_updates_per_second(as_json) == 1.74


def test_the_command_prints_one_rate_per_log(tmp_path, capsys):
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    first.write_text(simple_line(20, 1.55) + "\n")
    second.write_text(simple_line(20, 2.6) + "\n")
    assert training_rate.main([str(first), str(second)]) == 0
    assert capsys.readouterr().out.split() == ["1.55", "2.6"]


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (START + "\nTraceback (most recent call last):\n", "no 'train_inner' line"),
])
def test_a_log_without_a_rate_is_an_error_naming_it(tmp_path, capsys, content, message):
    log = tmp_path / "failed.log"
    if content is not None:
        log.write_text(content)
    assert training_rate.main([str(log)]) == 2
    err = capsys.readouterr().err
    assert str(log) in err and message in err
