"""fairseq-vmf-average: element-wise means, frozen tensors kept bit-exact, clear refusals."""

import pytest
import torch

from fairseq_vmf.cli.average_checkpoints import average_states, last_epoch_checkpoints, main
from fairseq_vmf.errors import InputError


def state(weight, table, step):
    return {"model": {"w": weight, "table": table, "steps": torch.tensor(step)}, "cfg": {"task": {"_name": "x"}},
            "last_optimizer_state": {"big": torch.zeros(3)}}


def test_mean_of_weights_and_exact_copy_of_equal_tensors():
    table = torch.randn(4, 3)
    states = [state(torch.tensor([1.0, 2.0]), table.clone(), 1), state(torch.tensor([3.0, 6.0]), table.clone(), 2),
              state(torch.tensor([2.0, 1.0]), table.clone(), 3)]
    averaged = average_states(states)
    torch.testing.assert_close(averaged["w"], torch.tensor([2.0, 3.0]))
    assert torch.equal(averaged["table"], table)  # bit for bit, not sum / 3
    assert averaged["steps"] == 1  # integers are not averaged: the first is kept


def test_checkpoints_of_different_models_are_refused():
    with pytest.raises(InputError, match="different parameters"):
        average_states([state(torch.ones(2), torch.ones(1), 1), {"model": {"other": torch.ones(2)}}])


def test_cli_averages_the_last_epochs_and_never_overwrites(tmp_path):
    table = torch.randn(4, 3)
    for epoch in range(1, 5):
        torch.save(state(torch.full((2,), float(epoch)), table, epoch), tmp_path / f"checkpoint{epoch}.pt")
    torch.save(state(torch.full((2,), 100.0), table, 9), tmp_path / "checkpoint_last.pt")
    assert [p.name for p in last_epoch_checkpoints(tmp_path, 3)] == ["checkpoint2.pt", "checkpoint3.pt", "checkpoint4.pt"]
    out = tmp_path / "avg.pt"
    main(["--inputs", str(tmp_path), "--last", "3", "--output", str(out)])
    written = torch.load(out, map_location="cpu")
    torch.testing.assert_close(written["model"]["w"], torch.full((2,), 3.0))
    assert written["cfg"] == {"task": {"_name": "x"}} and "last_optimizer_state" not in written
    with pytest.raises(InputError, match="exists"):
        main(["--inputs", str(tmp_path), "--last", "3", "--output", str(out)])
    with pytest.raises(InputError, match="--last 9 asked for"):
        main(["--inputs", str(tmp_path), "--last", "9", "--output", str(tmp_path / "b.pt")])
    (tmp_path / "torn.pt").write_bytes(out.read_bytes()[:100])
    with pytest.raises(InputError, match="torn.pt: not a complete checkpoint archive"):
        main(["--inputs", str(tmp_path / "torn.pt"), str(out), "--output", str(tmp_path / "c.pt")])
