"""scripts/rare_words.py: unk rate, out-of-cap outputs and their precision/recall, by hand."""

import importlib.util
import sys
import json

import pytest

from tests.helpers import REPO

sys.path.insert(0, str(REPO / "scripts"))  # the scripts import their shared helper as a sibling

spec = importlib.util.spec_from_file_location("rare_words", REPO / "scripts" / "rare_words.py")
rare_words = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rare_words)

CAPPED = {"un", "chat", "sur", "le", "."}


def test_counts_and_rates_by_hand():
    refs = [["un", "chat", "sur", "le", "tabouret", "."], ["un", "lama", "et", "un", "lama"]]
    hyps = [["un", "chat", "sur", "le", "tabouret", "tabouret"],  # one right rare word, one repeat
            ["un", "<unk>", "lama", "chien"]]                       # an <unk>, one right, one wrong
    counts = rare_words.rare_word_counts(hyps, refs, CAPPED)
    assert counts == {"tokens": 10, "unk": 1, "out_of_cap_outputs": 4, "out_of_cap_outputs_correct": 2,
                      "out_of_cap_references": 4, "out_of_cap_references_found": 2}
    rates = rare_words.rates(counts)
    assert rates == {"unk_rate": 0.1, "out_of_cap_rate": 0.4, "out_of_cap_precision": 0.5,
                     "out_of_cap_recall": 0.5}


def test_command_reads_stems_and_writes_the_table(tmp_path):
    (tmp_path / "dict.fr.txt").write_text("".join(f"{w} 5\n" for w in sorted(CAPPED)))
    (tmp_path / "ref.tok").write_text("un chat sur le tabouret .\n")
    (tmp_path / "a.tok").write_text("un chat sur le <unk> .\n")
    (tmp_path / "a.bleu.json").write_text(json.dumps({"score": 61.5, "signature": "nrefs:1|tok:13a"}))
    rare_words.main(["--ref-tok", str(tmp_path / "ref.tok"), "--dict", str(tmp_path / "dict.fr.txt"),
                     "--hyp", f"softmax={tmp_path / 'a'}", "--out", str(tmp_path / "out.md")])
    row = (tmp_path / "out.md").read_text().splitlines()[2]
    assert row == "| softmax | 61.50 | 16.67% | 0 (0.00%) | nan% | 0.0% of 1 |"
    assert (tmp_path / "out.md").read_text().splitlines()[-1] == "BLEU: nrefs:1|tok:13a"
    assert json.loads((tmp_path / "out.json").read_text())["softmax"]["unk"] == 1


def test_unequal_line_counts_are_refused():
    with pytest.raises(SystemExit, match="2 hypotheses but 1 references"):
        rare_words.rare_word_counts([["a"], ["b"]], [["a"]], set())
