"""scripts/seed_table.sh option checks and the report built from recorded rows."""

import gzip
import json
import subprocess
import sys

from tests.helpers import REPO, recipe_env, run


def test_unknown_row_is_refused_before_any_work(tmp_path):
    result = run(["bash", str(REPO / "scripts/seed_table.sh"), "en", "fr", "ce_word_word nope"], cwd=tmp_path,
                 env=recipe_env())
    assert result.returncode == 2 and "unknown row 'nope'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_report_arranges_recorded_rows_in_the_paper_order(tmp_path):
    results = tmp_path / "seed_table"
    (results / "en-fr" / "ft_vmf_reg12_tied").mkdir(parents=True)
    with gzip.open(results / "en-fr" / "ft_vmf_reg12_tied" / "train.log.gz", "wt") as log:
        log.write("continuous output layer: 38400 trainable parameters ...; model: 2345678 trainable\n")
    rows = [{"pair": "en-fr", "system": "ft_vmf_reg12_tied", "split": "test", "beam": b, "bleu": v, "chrf": 60.0 + b,
             "signature": "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0", "updates": 5000,
             "hyp": f"h{b}.txt"} for b, v in ((1, 40.5), (5, 41.25))]
    rows.append({**rows[1], "system": "ce_word_word", "pair": "fr-en", "bleu": 50.0})
    (results / "summary.json").write_text(json.dumps({"rows": rows}))
    result = subprocess.run([sys.executable, str(REPO / "scripts/seed_table_report.py"), "--results", str(results)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    table = json.loads((tmp_path / "seed_table.json").read_text())["rows"]
    assert [r["row"] for r in table][:3] == ["ce_word_word", "ce_word_bpe", "ce_bpe_bpe"] and len(table) == 15
    tied = next(r for r in table if r["row"] == "ft_vmf_reg12_tied")
    assert tied["directions"]["en-fr"] == {"bleu_greedy": 40.5, "bleu_beam5": 41.25, "chrf_beam5": 65.0,
                                           "updates": 5000, "hyp_beam5": "h5.txt", "trainable_parameters": 2345678}
    assert tied["paper_bleu"] == {"fr-en": 32.1, "de-en": 25.1, "en-fr": 31.7}
    markdown = (tmp_path / "seed_table.md").read_text()
    assert "| ft_vmf_reg12_tied | fastText | yes | word->emb | NLLvMF reg1+reg2 | not run | not run | " \
           "40.5 / 41.25 / 65.0 / 5000 | 2345678 | 32.1 / 25.1 / 31.7 |" in markdown
    # fr-en comes first; a row without its greedy decode shows "-" there
    assert "| ce_word_word | - | no | word->word | CE | - / 50.0 / 65.0 / 5000 | not run | not run |" in markdown
