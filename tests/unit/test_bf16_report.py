"""scripts/bf16_report.py: finite-value check and BLEU spread, from hand-made run folders."""

import importlib.util
import json

from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("bf16_report", REPO / "scripts" / "bf16_report.py")
bf16_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bf16_report)

HYDRA_LINE = ("[2026-12-04 16:38:33,013][train_inner][INFO] - epoch 001:      {u} / 121 loss={loss}, "
              "cos=0.0197, kappa={kappa}, nll_vmf=-427.568, wps=0, ups=0, wpb=4096, bsz=256, "
              "num_updates={u}, lr=5.0999e-06, gnorm={gnorm}, clip=100, train_wall=5, wall=6\n")
SIMPLE_LINE = ("2026-12-04 16:30:37 | INFO | train_inner | epoch 001:     {u} / 121 loss={loss}, "
               "cos=0.09, kappa={kappa}, nll_vmf=-428.6, wps=8326, ups=2.32, wpb=3603.2, bsz=245.3, "
               "num_updates={u}, lr=0.00025, gnorm={gnorm}, clip=100, train_wall=22, wall=23\n")


def make_run(out, name, values, bleu, line=HYDRA_LINE, done=True):
    text = "".join(line.format(u=u, loss=loss, kappa=kappa, gnorm=gnorm)
                   for u, (loss, kappa, gnorm) in enumerate(values, start=1))
    if done:
        text += "[2026-12-04 16:40:55,583][fairseq_cli.train][INFO] - done training in 147.3 seconds\n"
    (out / f"{name}.train.log").write_text(text)
    (out / name).mkdir()
    if bleu is not None:
        (out / name / "valid.beam1.bleu.json").write_text(json.dumps({"name": "BLEU", "score": bleu}))


def test_both_log_formats_are_read_value_by_value():
    rows = bf16_report.train_inner_values(HYDRA_LINE.format(u=7, loss=-1.5, kappa=13.2, gnorm=4.0)
                                          + SIMPLE_LINE.format(u=8, loss=2.0, kappa=20.5, gnorm=3.0)
                                          + "[..][fairseq.trainer][INFO] - begin training epoch 2\n")
    assert [(r["num_updates"], r["loss"], r["kappa"], r["gnorm"]) for r in rows] == [
        (7, -1.5, 13.2, 4.0), (8, 2.0, 20.5, 3.0)]


def test_a_nan_kappa_fails_the_check_and_bleu_is_placed_against_the_fp32_spread(tmp_path):
    make_run(tmp_path, "fp32_seed1", [(3.0, 13.0, 5.0), (2.0, 14.0, 4.0)], 38.19)
    make_run(tmp_path, "fp32_seed2", [(3.1, 13.1, 5.1), (2.1, 14.1, 4.1)], 34.99, line=SIMPLE_LINE)
    make_run(tmp_path, "bf16_seed1", [(3.0, 13.0, 5.0), (2.0, 14.0, 4.0)], 37.83)
    make_run(tmp_path, "bf16_seed2", [(3.0, "nan", 5.0), (2.0, 14.0, "inf")], 33.88)
    code = bf16_report.main(["--out", str(tmp_path), "--updates", "2",
                             "fp32_seed1", "fp32_seed2", "bf16_seed1", "bf16_seed2"])
    assert code == 1
    report = json.loads((tmp_path / "report.json").read_text())
    by_run = {r["run"]: r for r in report["runs"]}
    assert [(u, k) for u, k, _ in by_run["bf16_seed2"]["non_finite"]] == [(1, "kappa"), (2, "gnorm")]
    assert by_run["fp32_seed1"]["non_finite"] == [] and by_run["fp32_seed1"]["updates"] == 2
    spread = {v["run"]: v["within"] for v in report["spread"]}
    assert spread == {"bf16_seed1": True, "bf16_seed2": False}
    text = (tmp_path / "report.md").read_text()
    assert "within the float32 seeds' spread [34.99, 38.19]" in text and "finite, and was decoded: NO" in text


def test_complete_finite_runs_pass_and_an_undecoded_or_short_run_does_not(tmp_path):
    for name in ("fp32_seed1", "fp32_seed2", "bf16_seed1", "bf16_seed2"):
        make_run(tmp_path, name, [(3.0, 13.0, 5.0), (2.0, 14.0, 4.0)], 36.0)
    runs = ["fp32_seed1", "fp32_seed2", "bf16_seed1", "bf16_seed2"]
    assert bf16_report.main(["--out", str(tmp_path), "--updates", "2", *runs]) == 0
    assert bf16_report.main(["--out", str(tmp_path), "--updates", "3", *runs]) == 1  # short of the budget
    (tmp_path / "bf16_seed1" / "valid.beam1.bleu.json").unlink()
    assert bf16_report.main(["--out", str(tmp_path), "--updates", "2", *runs]) == 1  # not decoded
