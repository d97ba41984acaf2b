import json

import pytest

from fairseq_vmf.data.steps import StepRunner
from fairseq_vmf.errors import InputError


class Writer:
    """A step that writes ``text`` to ``path`` and counts how often it ran."""

    def __init__(self, path, text="made"):
        self.path, self.text, self.calls = path, text, 0

    def __call__(self):
        self.calls += 1
        self.path.write_text(self.text)


def test_second_run_with_same_settings_is_skipped(tmp_path):
    out = tmp_path / "a.txt"
    step = Writer(out)
    assert StepRunner(tmp_path).run("a", [out], {"k": 1}, step) is True
    assert StepRunner(tmp_path).run("a", [out], {"k": 1}, step) is False
    assert step.calls == 1


def test_changed_input_or_setting_needs_overwrite(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("v1")
    out = tmp_path / "a.txt"
    StepRunner(tmp_path).run("a", [out], {"k": 1}, Writer(out), inputs=[source])
    with pytest.raises(InputError, match="step 'a' was already done with different settings.*--overwrite"):
        StepRunner(tmp_path).run("a", [out], {"k": 2}, Writer(out), inputs=[source])
    source.write_text("v2")
    with pytest.raises(InputError, match="different inputs"):
        StepRunner(tmp_path).run("a", [out], {"k": 1}, Writer(out), inputs=[source])
    redo = Writer(out, "new")
    assert StepRunner(tmp_path, overwrite=True).run("a", [out], {"k": 1}, redo, inputs=[source])
    assert out.read_text() == "new"


def test_files_not_made_by_the_pipeline_are_never_overwritten(tmp_path):
    out = tmp_path / "mine.txt"
    out.write_text("user's notes")
    with pytest.raises(InputError, match="mine.txt: exists and was not made by this pipeline"):
        StepRunner(tmp_path).run("a", [out], {}, Writer(out))
    assert out.read_text() == "user's notes"
    StepRunner(tmp_path, overwrite=True).run("a", [out], {}, Writer(out))
    assert out.read_text() == "made"


def test_deleted_output_is_remade(tmp_path):
    out = tmp_path / "a.txt"
    step = Writer(out)
    StepRunner(tmp_path).run("a", [out], {}, step)
    out.unlink()
    assert StepRunner(tmp_path).run("a", [out], {}, step) is True
    assert step.calls == 2


def test_interrupted_step_is_rerun_without_overwrite(tmp_path):
    out = tmp_path / "a.txt"

    def crash():
        out.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        StepRunner(tmp_path).run("a", [out], {}, crash)
    assert json.loads((tmp_path / ".steps" / "a.json").read_text())["state"] == "running"
    StepRunner(tmp_path).run("a", [out], {}, Writer(out))
    assert out.read_text() == "made"
