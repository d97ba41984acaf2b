import pytest

from fairseq_vmf_text.subwords import sentencepiece_decode, sentencepiece_encode, train_sentencepiece
from fairseq_vmf.errors import InputError

TEXT = [
    "A little girl climbing into a wooden playhouse.",
    "Two young guys with shaggy hair look at their hands while hanging out in the yard.",
    "A man in a blue shirt is standing on a ladder cleaning windows.",
    "Several men in hard hats are operating a giant pulley system.",
] * 25


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spm")
    text = folder / "train.en"
    text.write_text("\n".join(TEXT) + "\n", encoding="utf-8")
    return train_sentencepiece(text, folder / "spm.en", vocab_size=60)


def test_model_file_is_where_the_prefix_says(model):
    assert model.name == "spm.en.model" and model.is_file()


def test_encode_then_decode_is_lossless(model):
    pieces = sentencepiece_encode(TEXT[:4], model)
    assert all(len(line.split()) > len(raw.split()) for line, raw in zip(pieces, TEXT))
    assert sentencepiece_decode(pieces, model) == TEXT[:4]


def test_same_text_and_seed_give_the_same_pieces(model, tmp_path):
    text = tmp_path / "train.en"
    text.write_text("\n".join(TEXT) + "\n", encoding="utf-8")
    again = train_sentencepiece(text, tmp_path / "again", vocab_size=60)
    assert sentencepiece_encode(TEXT, again) == sentencepiece_encode(TEXT, model)


def test_missing_model_is_named(tmp_path):
    with pytest.raises(InputError, match="nope.model: SentencePiece model not found"):
        sentencepiece_encode(["x"], tmp_path / "nope.model")
