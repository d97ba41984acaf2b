"""scripts/translate.sh REPLACE_UNK=1 on a stock softmax checkpoint: fairseq-generate runs with
--print-alignment hard and each aligned <unk> of the output is the source token it points to."""

import shutil

import pytest

from tests.helpers import recipe_env, run

pytestmark = pytest.mark.slow


def test_unks_are_replaced_from_the_alignment(prepared, tiny_softmax_checkpoint, tmp_path):
    save = tmp_path / "run"
    save.mkdir()
    shutil.copy(tiny_softmax_checkpoint, save / "checkpoint_best.pt")
    result = run(["bash", "scripts/translate.sh", "en", "fr", str(save), str(prepared)],
                 env=recipe_env(REPLACE_UNK="1", SPLIT="valid", BEAM="2", TAG="ru",
                                GEN_ARGS="--unkpen -100"))  # <unk> everywhere: every position is replaced
    assert result.returncode == 0, result.stderr[-3000:]
    assert "--print-alignment hard" in (save / "valid.beam2.ru.command").read_text()
    sources = (prepared / "text" / "valid.en").read_text(encoding="utf-8").splitlines()
    hyps, pairs = {}, {}
    for line in (save / "valid.beam2.ru.generate.log").read_text(encoding="utf-8").splitlines():
        if line.startswith("H-"):
            sent, _, text = line[2:].split("\t")
            hyps[int(sent)] = text.split()
        elif line.startswith("A-"):
            sent, text = line[2:].split("\t")
            pairs[int(sent)] = {int(p.split("-")[1]): int(p.split("-")[0]) for p in text.split()}
    outputs = (save / "valid.beam2.ru.tok").read_text(encoding="utf-8").splitlines()
    assert len(outputs) == len(sources) == len(hyps)
    unks = 0
    for sent, hyp in hyps.items():
        expected = [sources[sent].split()[pairs[sent][i]] if tok == "<unk>" and i in pairs[sent] else tok
                    for i, tok in enumerate(hyp)]
        unks += hyp.count("<unk>")
        assert outputs[sent].split() == expected
    assert unks > 0, "the tiny model wrote no <unk>: the replacement was not exercised"
