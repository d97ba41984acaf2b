"""scripts/error_analysis.py: error words, missed words and their closeness, by hand."""

import importlib.util
import sys

import numpy as np
import pytest

from tests.helpers import REPO

sys.path.insert(0, str(REPO / "scripts"))  # the scripts import their shared helper as a sibling

spec = importlib.util.spec_from_file_location("error_analysis", REPO / "scripts" / "error_analysis.py")
error_analysis = importlib.util.module_from_spec(spec)
spec.loader.exec_module(error_analysis)


def split(line):
    return line.split()


def test_errors_and_missed_words_are_multiset_differences_without_punctuation():
    hyp = error_analysis.content_tokens("Un chat noir , un chat .", split)
    ref = error_analysis.content_tokens("Un chien noir et un chat !", split)
    assert hyp == ["un", "chat", "noir", "un", "chat"]
    errors, missed = error_analysis.error_and_missed_words(hyp, ref)
    assert errors == ["chat"] and sorted(missed) == ["chien", "et"]


def test_closest_similarity_takes_the_best_missed_word_and_skips_unknown_pairs():
    table = {("chat", "chien"): 0.8, ("chat", "et"): 0.1, ("rouge", "et"): 0.3}
    similarity = lambda a, b: table.get((a, b))  # noqa: E731
    assert error_analysis.closest_similarities(["chat", "rouge", "vert"], ["chien", "et"], similarity) == [0.8, 0.3]


def test_measure_scores_own_sentence_against_a_derangement():
    vectors = {"chat": np.array([1.0, 0.0]), "chien": np.array([0.8, 0.6]),
               "rouge": np.array([0.0, 1.0]), "bleu": np.array([-0.6, 0.8])}
    hyps = ["un chat", "un rouge"]
    refs = ["un chien", "un bleu"]
    result = error_analysis.measure(hyps, refs, split, vectors)
    assert result["error_words"] == 2 and result["hyp_words"] == 4
    # own sentence: cos(chat, chien) = 0.8, cos(rouge, bleu) = 0.8; chance swaps the sentences:
    # cos(chat, bleu) = -0.6, cos(rouge, chien) = 0.6
    assert result["cos"] == pytest.approx(0.8)
    assert result["cos_chance"] == pytest.approx(0.0)
    assert result["cos_share_above_0.5"] == 1.0
    assert 0 < result["chrf_chance"] <= 1 and result["chrf"] >= 0


def test_measure_refuses_unequal_line_counts():
    with pytest.raises(SystemExit, match="2 hypotheses but 1 references"):
        error_analysis.measure(["a", "b"], ["a"], split, {})
