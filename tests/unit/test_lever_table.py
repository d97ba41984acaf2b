"""scripts/lever_table.py: valid BLEU of each lever at equal updates, from hand-made logs."""

import gzip
import importlib.util
import sys

import pytest

from tests.helpers import REPO

sys.path.insert(0, str(REPO / "scripts"))
spec = importlib.util.spec_from_file_location("lever_table", REPO / "scripts" / "lever_table.py")
lever_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lever_table)


def valid_line(minute, epoch, bleu, updates):
    return (f"2026-12-03 10:{minute:02d}:00 | INFO | valid | epoch {epoch:03d} | valid on 'valid' subset "
            f"| loss 7.9 | bleu {bleu} | wps 6195.3 | num_updates {updates}\n")


def write_lever(screen, name, curve, gz=False):
    folder = screen / name
    folder.mkdir(parents=True)
    text = "2026-12-03 10:00:00 | INFO | fairseq_cli.train | start\n" + "".join(
        valid_line(i + 1, i + 1, bleu, updates) for i, (updates, bleu) in enumerate(curve))
    if gz:
        with gzip.open(folder / "train.log.gz", "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        (folder / "train.log").write_text(text, encoding="utf-8")


def test_table_reads_bleu_at_the_requested_updates_and_sorts_by_the_last(tmp_path):
    write_lever(tmp_path, "default", [(121, 1.5), (242, 10.0), (363, 12.25)])
    write_lever(tmp_path, "lr_1e-2", [(121, 3.0), (242, 14.5), (363, 13.0)], gz=True)
    write_lever(tmp_path, "short", [(121, 0.5)])
    # a committed log, LEVER.train.log.gz beside the folders
    write_lever(tmp_path, "flat", [(121, 0.25), (363, 12.5)], gz=True)
    (tmp_path / "flat" / "train.log.gz").rename(tmp_path / "flat.train.log.gz")
    (tmp_path / "flat").rmdir()
    (tmp_path / "no_log").mkdir()
    lines = lever_table.table(tmp_path, [121, 363]).splitlines()
    assert lines[0] == "| lever | valid BLEU @121 | valid BLEU @363 | best (updates) | reached |"
    # sorted by BLEU @363: 13.00, 12.25, then the run that stopped before 363
    assert lines[2] == "| lr_1e-2 | 3.00 | 13.00 | 14.50 (242) | 363 |"
    assert lines[3] == "| flat | 0.25 | 12.50 | 12.50 (363) | 363 |"
    assert lines[4] == "| default | 1.50 | 12.25 | 12.25 (363) | 363 |"
    assert lines[5] == "| short | 0.50 | - | 0.50 (121) | 121 |"
    assert len(lines) == 6  # the folder without a log is not a row


def test_a_folder_without_any_curve_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="no lever folder"):
        lever_table.table(tmp_path, [968])
