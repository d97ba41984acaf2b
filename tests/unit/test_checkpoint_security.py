"""Hostile checkpoints built from the globals the plugin allow-lists for torch's safe loader.

The plugin widens ``weights_only`` loading to ``argparse.Namespace`` and numpy's array and
scalar types. Each payload below hides a call to ``os.system`` inside one of those (or in a
nested state dict, as fairseq checkpoints nest); the control loads it with
``weights_only=False`` and the command runs; with the plugin imported, the default safe load
refuses it and nothing runs.
"""

import argparse
import os
import pickle

import numpy as np
import pytest
import torch

import fairseq_vmf  # noqa: F401  (allow-lists fairseq's checkpoint types)
from fairseq_vmf.errors import checkpoint_load_message
from tests.helpers import command, run


class ShellPayload:
    """Unpickles as os.system(command): the classic pickle attack."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def object_array(payload):
    array = np.empty(1, dtype=object)
    array[0] = payload
    return array


# name -> (checkpoint around the payload, what torch's refusal names)
HOSTILE = {
    "namespace": (lambda p: {"args": argparse.Namespace(arch="transformer", payload=p), "model": {}},
                  "posix.system"),
    "object_array": (lambda p: {"model": {}, "extra_state": {"metrics": {"bleu": object_array(p)}}},
                     "ObjectDType"),
    "nested_state_dict": (lambda p: {"model": {"decoder": {"layers": [{"weight": torch.zeros(2), "hook": p}]}}},
                          "posix.system"),
    "namespace_in_object_array": (lambda p: {"cfg": object_array(argparse.Namespace(inner=object_array(p)))},
                                  "ObjectDType"),
    "beside_numpy_scalars": (lambda p: {"model": {}, "best": np.float64(1.5), "x": [np.dtype("float32"), p]},
                             "posix.system"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_checkpoint_runs_code_unsafely_and_is_refused_safely(tmp_path, name):
    marker = tmp_path / "pwned"
    path = tmp_path / f"{name}.pt"
    build, named = HOSTILE[name]
    torch.save(build(ShellPayload(marker)), path)

    with pytest.raises(pickle.UnpicklingError) as refused:
        torch.load(path, map_location="cpu")  # torch >= 2.6: weights_only=True, the plugin's allow-list
    assert not marker.exists()
    message = checkpoint_load_message(refused.value, refused.tb)
    assert message.startswith("a checkpoint: refused by torch's safe loader (") and named in message

    torch.load(path, map_location="cpu", weights_only=False)  # the control: the payload runs
    assert marker.exists()


def test_plain_data_in_allow_listed_types_still_loads(tmp_path):
    state = {"args": argparse.Namespace(arch="transformer", lr=[1e-3]), "model": {"w": torch.ones(3)},
             "extra_state": {"metrics": {"bleu": np.array([1.0, 2.0]), "best": np.float64(2.5)}}}
    torch.save(state, tmp_path / "plain.pt")
    loaded = torch.load(tmp_path / "plain.pt", map_location="cpu")
    assert loaded["args"].arch == "transformer" and loaded["extra_state"]["metrics"]["best"] == 2.5


def test_fairseq_generate_refuses_a_hostile_checkpoint_in_one_line(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "hostile.pt"
    torch.save(HOSTILE["namespace"][0](ShellPayload(marker)), path)
    data = tmp_path / "data"
    data.mkdir()
    for lang in ("en", "fr"):
        (data / f"dict.{lang}.txt").write_text("a 1\n", encoding="utf-8")
    result = run([command("fairseq-generate"), str(data), "--user-dir", "fairseq_vmf", "--path", str(path),
                  "-s", "en", "-t", "fr"])
    assert result.returncode != 0 and not marker.exists()
    assert "Traceback" not in result.stderr
    assert f"fairseq_vmf: error: {path}: refused by torch's safe loader" in result.stderr
