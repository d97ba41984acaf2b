"""Faults: training, prepare and embed killed with SIGKILL at chosen points, then rerun.

The kills are real (the process sends itself SIGKILL) at points chosen by a launcher that
wraps the real command (``FAULT`` / ``FAULT_AT``), so each case is reproducible: between
two updates, while torch writes a checkpoint, while fairseq copies it to
``checkpoint_last.pt``, and inside or at the end of a prepare/embed step.
"""

import hashlib
import json
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from tests.helpers import SMALL_FASTTEXT, command, prepare, run

pytestmark = pytest.mark.slow

LAUNCHER = r'''
import os, signal, shutil, sys
import torch

fault, at = os.environ.get("FAULT", ""), int(os.environ.get("FAULT_AT", "0"))


def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


if fault in ("between_updates", "torch_save", "copy_last"):
    from fairseq.trainer import Trainer

    saving_at = [None]
    train_step, save_checkpoint = Trainer.train_step, Trainer.save_checkpoint

    def checked_step(self, samples, raise_oom=False):
        if fault == "between_updates" and self.get_num_updates() == at:
            die()
        return train_step(self, samples, raise_oom)

    def tracked_save(self, filename, extra_state):
        saving_at[0] = self.get_num_updates()
        return save_checkpoint(self, filename, extra_state)

    Trainer.train_step, Trainer.save_checkpoint = checked_step, tracked_save
    torch_save, copyfile = torch.save, shutil.copyfile

    def torn_save(obj, f, *args, **kwargs):  # half of the bytes reach the file, then the kill
        if fault == "torch_save" and saving_at[0] == at:
            import io
            buffer = io.BytesIO()
            torch_save(obj, buffer, *args, **kwargs)
            f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
            f.flush()
            die()
        return torch_save(obj, f, *args, **kwargs)

    def torn_copy(src, dst, *args, **kwargs):
        if fault == "copy_last" and saving_at[0] == at and str(dst).endswith("checkpoint_last.pt"):
            data = open(src, "rb").read()
            with open(dst, "wb") as out:
                out.write(data[: len(data) // 2])
            die()
        return copyfile(src, dst, *args, **kwargs)

    torch.save, shutil.copyfile = torn_save, torn_copy
    from fairseq_cli.train import cli_main
elif fault in ("step_start", "step_end"):
    from fairseq_vmf.data import steps

    run_step = steps.StepRunner.run

    def faulty_run(self, name, outputs, settings, build, inputs=()):
        def faulty_build():
            if name == os.environ["FAULT_STEP"] and fault == "step_start":
                die()
            build()
            if name == os.environ["FAULT_STEP"]:
                die()
        return run_step(self, name, outputs, settings, faulty_build, inputs)

    steps.StepRunner.run = faulty_run
    command = os.environ["FAULT_COMMAND"]
    if command == "prepare":
        from fairseq_vmf.cli.prepare_data import cli_main
    else:
        from fairseq_vmf.cli.build_embeddings import cli_main
else:
    from fairseq_cli.train import cli_main
sys.argv[0] = "launcher"
sys.exit(cli_main())
'''

TINY_BODY = ("--encoder-layers 1 --decoder-layers 1 --encoder-embed-dim 16 --decoder-embed-dim 16 "
             "--encoder-ffn-embed-dim 32 --decoder-ffn-embed-dim 32 --encoder-attention-heads 2 "
             "--decoder-attention-heads 2")
RUN_ARGS = f"{TINY_BODY} --max-tokens 1000 --save-interval-updates 2 --disable-validation --log-format json --log-interval 1"


@pytest.fixture()
def launcher_path(tmp_path):
    """A ``fairseq-train`` first on PATH that runs the real one under the fault launcher."""
    folder = tmp_path / "launcher"
    folder.mkdir()
    (folder / "launcher.py").write_text(LAUNCHER)
    train = folder / "fairseq-train"
    train.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{folder / "launcher.py"}" "$@"\n')
    train.chmod(train.stat().st_mode | stat.S_IEXEC)
    return folder


def train_sh(prepared, save, launcher, **env):
    environment = {**os.environ, "PATH": f"{launcher}:{Path(sys.executable).parent}:{os.environ['PATH']}",
                   "MAX_UPDATE": "8", "EXTRA_ARGS": RUN_ARGS,
                   "TABLE": str(prepared / "embeddings" / "fasttext.fr.npz"), **env}
    return run(["bash", "scripts/train.sh", "en", "fr", "vmf", str(prepared), str(save)], env=environment)


def losses(result):
    """{update: loss} of the json training records a run printed."""
    found = {}
    for line in result.stdout.splitlines():
        if "train_inner" in line and '"num_updates"' in line:
            record = json.loads(line[line.index("{"):])
            found[int(record["num_updates"])] = float(record["loss"])
    return found


def last_saved(result):
    """The update count of the last checkpoint fairseq finished saving."""
    saved = re.findall(r"Saved checkpoint \S+ \(epoch \d+ @ (\d+) updates", result.stdout + result.stderr)
    return int(saved[-1])


def loaded_at(result):
    match = re.search(r"Loaded checkpoint (\S+) \(epoch \d+ @ (\d+) updates\)", result.stdout + result.stderr)
    assert match, (result.stdout + result.stderr)[-3000:]
    return Path(match.group(1)).name, int(match.group(2))


@pytest.fixture(scope="module")
def reference(prepared, tmp_path_factory):
    """The uninterrupted run: losses of updates 1..8."""
    save = tmp_path_factory.mktemp("reference")
    result = train_sh(prepared, save / "run", "/nonexistent")
    assert result.returncode == 0, result.stderr[-3000:]
    found = losses(result)
    assert set(found) == set(range(1, 9))
    return found


@pytest.mark.parametrize("fault, at", [
    ("between_updates", 5),  # killed before update 6: resumes from the last save (update 4)
    ("torch_save", 6),       # killed while torch wrote update 6's file: checkpoint_last.pt is the last save's
    ("copy_last", 6),        # killed while copying update 6's file to checkpoint_last.pt: resumes from that file
])
def test_killed_training_resumes_with_the_same_losses(prepared, tmp_path, launcher_path, reference, fault, at):
    save = tmp_path / "run"
    killed = train_sh(prepared, save, launcher_path, FAULT=fault, FAULT_AT=str(at))
    assert killed.returncode != 0  # SIGKILL: train.sh fails with the pipeline
    assert max(losses(killed)) == at
    resumes_at = at if fault == "copy_last" else last_saved(killed)
    assert resumes_at < at or fault == "copy_last"
    good = sorted(p.name for p in save.glob("checkpoint_*_*.pt"))
    if fault == "between_updates":  # a resume with another setting would mix two trainings in one run
        before = {p.name: p.stat().st_mtime_ns for p in save.iterdir()}
        changed = train_sh(prepared, save, launcher_path, RESUME="1", DROPOUT="0.2")
        assert changed.returncode == 2 and "trained with other settings" in changed.stderr
        assert "model.dropout: 0.3 in the run, 0.2 in the command" in changed.stderr
        assert {p.name: p.stat().st_mtime_ns for p in save.iterdir()} == before

    resumed = train_sh(prepared, save, launcher_path, RESUME="1")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    name, updates = loaded_at(resumed)
    assert updates == resumes_at
    after = losses(resumed)
    assert set(after) == set(range(resumes_at + 1, 9))
    for update, loss in after.items():  # the same batches, dropout masks and weights
        assert loss == pytest.approx(reference[update], rel=1e-6, abs=1e-6), update
    # every complete checkpoint written before the kill is still there
    assert set(good) <= {p.name for p in save.glob("checkpoint_*_*.pt")}
    if fault == "copy_last":
        assert name.endswith(f"_{at}.pt") and (save / "checkpoint_last.pt.damaged").is_file()
        assert "resuming from" in resumed.stderr and "checkpoint_last.pt" in resumed.stderr


def test_damaged_checkpoint_is_one_line_naming_the_file(prepared, tmp_path, launcher_path, reference):
    save = tmp_path / "run"
    train_sh(prepared, save, launcher_path, FAULT="copy_last", FAULT_AT="4")
    last = save / "checkpoint_last.pt"
    # fairseq-train's own resume (without train.sh) and fairseq-generate on the torn file
    result = run([command("fairseq-train"), str(prepared / "bin"), "--user-dir", "fairseq_vmf",
                  "--task", "translation_vmf", "--target-embeddings", str(prepared / "embeddings" / "fasttext.fr.npz"),
                  "--arch", "continuous_transformer_tiny", *TINY_BODY.split(), "--criterion", "vmf",
                  "--optimizer", "adam", "--lr", "1e-3", "--max-tokens", "1000", "--save-dir", str(save),
                  "--max-update", "8", "--num-workers", "0"])
    generate = run([command("fairseq-generate"), str(prepared / "bin"), "--user-dir", "fairseq_vmf",
                    "--task", "translation_vmf", "--path", str(last), "--gen-subset", "valid"])
    for failed in (result, generate):
        assert failed.returncode != 0
        assert "Traceback" not in failed.stderr, failed.stderr[-3000:]
        assert f"fairseq_vmf: error: {last}: cannot load this checkpoint: not a complete checkpoint archive" in failed.stderr


def tree_hashes(folder: Path):
    """Every made file's hash, except records, logs and SentencePiece models (they hold the
    paths they were trained from; their .vocab and the segmented text are compared)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and ".steps" not in p.parts and "log" not in p.name and p.suffix != ".model"}


def faulty(env_extra, args):
    environment = {**os.environ, **env_extra}
    return run([sys.executable, "-c", LAUNCHER, *args], env=environment)


def assert_same_files(made, clean, *expected):
    """Every file of ``made`` equals the clean run's (other tests may add files to that one)."""
    made_hashes, clean_hashes = tree_hashes(made), tree_hashes(clean)
    assert set(expected) <= set(made_hashes)
    made_hashes.pop("embeddings/fasttext.fr.coverage.json", None)  # compared without its paths
    assert {name: clean_hashes.get(name) for name in made_hashes} == made_hashes


# (the session's ``prepared`` folder is the clean run: the same prepare and embed commands)
@pytest.mark.parametrize("step, when", [("tokenize.fr", "step_start"), ("binarize", "step_end")])
def test_killed_prepare_reruns_cleanly(small_raw_dir, tmp_path, prepared, step, when):
    out = tmp_path / "en-fr"
    args = ["--src", "en", "--tgt", "fr", "--raw-dir", str(small_raw_dir), "--out", str(out), "--src-spm-vocab", "200"]
    killed = faulty({"FAULT": when, "FAULT_STEP": step, "FAULT_COMMAND": "prepare"}, args)
    assert killed.returncode == -9
    assert json.loads((out / ".steps" / f"{step}.json").read_text())["state"] == "running"
    rerun = prepare(small_raw_dir, out)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert_same_files(out, prepared, "bin/train.en-fr.fr.bin", "bin/dict.en.txt", "text/test.fr")


def test_killed_embed_reruns_cleanly(small_raw_dir, tmp_path, prepared):
    step, when = "fasttext.fasttext.fr", "step_end"
    out = tmp_path / "en-fr"
    assert prepare(small_raw_dir, out).returncode == 0
    killed = faulty({"FAULT": when, "FAULT_STEP": step, "FAULT_COMMAND": "embed"}, ["--data", str(out), *SMALL_FASTTEXT])
    assert killed.returncode == -9
    rerun = run([command("fairseq-vmf-embed"), "--data", str(out), *SMALL_FASTTEXT])
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert_same_files(out, prepared, "embeddings/fasttext.fr.npz", "embeddings/fasttext.fr.bin")
    coverage = [json.loads((folder / "embeddings" / "fasttext.fr.coverage.json").read_text())
                for folder in (out, prepared)]
    for record in coverage:  # the paths differ, nothing else may
        record.pop("vectors"), record.pop("dictionary")
    assert coverage[0] == coverage[1]
