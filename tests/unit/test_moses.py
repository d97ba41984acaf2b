import pytest

from fairseq_vmf_text.moses import moses_detokenize, moses_tokenize

SENTENCES = {
    "en": ["A man in an orange hat starring at something.", "Two dogs, a cat and a bird aren't playing."],
    "de": ["Ein Mann mit einem orangefarbenen Hut, der etwas anstarrt.", "Zwei Hunde spielen im Schnee!"],
    "fr": ["Un homme avec un chapeau orange regardant quelque chose.", "L'homme regarde l'eau, n'est-ce pas ?"],
}


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_tokenize_then_detokenize_gives_the_sentence_back(lang):
    tokenized = moses_tokenize(SENTENCES[lang], lang)
    assert all(" " in line for line in tokenized)
    assert moses_detokenize(tokenized, lang) == SENTENCES[lang]


def test_punctuation_is_split_without_html_escapes():
    assert moses_tokenize(['He said "hi", & left.'], "en") == ['He said " hi " , & left .']


def test_french_elision_stays_with_the_article():
    assert moses_tokenize(["L'homme regarde l'eau."], "fr") == ["L' homme regarde l' eau ."]


def test_all_whitespace_becomes_single_ascii_spaces():
    # Multi30k has tabs, non-breaking spaces and trailing spaces: fastText splits only on
    # ASCII whitespace, so a token must never contain any other kind.
    (line,) = moses_tokenize(["Ein\u00a0Hund\tläuft  schnell. "], "de")
    assert line == "Ein Hund läuft schnell ."


def test_punctuation_normalisation_is_optional():
    raw = ["Il dit « bonjour »."]
    assert moses_tokenize(raw, "fr") != moses_tokenize(raw, "fr", normalize_punct=True)
