"""Checkpoints made by the released 0.1.0 still load and decode the same (tests/data/release_0.1.0)."""

import pytest

from tests.helpers import REPO, command, run

RELEASE = REPO / "tests" / "data" / "release_0.1.0"


def hypotheses(text):
    """{sentence id: (score, tokens)} from fairseq-generate's H- lines."""
    found = {}
    for line in text.splitlines():
        if line.startswith("H-"):
            ident, score, tokens = line[2:].split("\t")
            found[int(ident)] = (float(score), tokens)
    return found


@pytest.mark.parametrize("arch", ["continuous_transformer", "continuous_lstm"])
def test_release_checkpoint_decodes_as_it_did(tmp_path, arch):
    data = tmp_path / "bin"
    preprocess = run([command("fairseq-preprocess"), "--source-lang", "src", "--target-lang", "tgt",
                      "--testpref", str(RELEASE / "test"), "--srcdict", str(RELEASE / "dict.src.txt"),
                      "--tgtdict", str(RELEASE / "dict.tgt.txt"), "--destdir", str(data), "--workers", "1"])
    assert preprocess.returncode == 0, preprocess.stderr[-2000:]
    generate = run([command("fairseq-generate"), str(data), "--user-dir", "fairseq_vmf", "--task", "translation_vmf",
                    "--path", str(RELEASE / f"{arch}.pt"), "--beam", "3", "--batch-size", "8",
                    "--required-batch-size-multiple", "1", "--gen-subset", "test", "--knn-kappa-scale", "1.5"])
    assert generate.returncode == 0, generate.stderr[-3000:]
    found = hypotheses(generate.stdout)
    expected = hypotheses((RELEASE / f"expected_{arch.split('_')[1]}.txt").read_text())
    assert len(expected) == 20 and set(found) == set(expected)
    for ident, (score, tokens) in expected.items():
        assert found[ident][1] == tokens, ident
        assert found[ident][0] == pytest.approx(score, abs=1e-4), ident
