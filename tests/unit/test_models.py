"""continuous_transformer / continuous_lstm: shapes, incremental decoding, tying, counts."""

import argparse
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import fairseq_vmf  # noqa: F401  (registers the models)
from fairseq.data import Dictionary
from fairseq.models import ARCH_MODEL_REGISTRY
from fairseq_vmf.errors import InputError

TABLE_DIM = 8
TINY = {
    "continuous_transformer_small": dict(
        encoder_embed_dim=16, decoder_embed_dim=16, encoder_ffn_embed_dim=32, decoder_ffn_embed_dim=32,
        encoder_layers=2, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
        dropout=0.0,
    ),
    "continuous_lstm_small": dict(
        encoder_embed_dim=16, encoder_hidden_size=16, decoder_embed_dim=16, decoder_hidden_size=20,
        decoder_out_embed_dim=20, dropout=0.0,
    ),
    "continuous_lstm": dict(
        encoder_embed_dim=16, encoder_hidden_size=16, decoder_embed_dim=16, decoder_hidden_size=20,
        decoder_out_embed_dim=20,
    ),
}
ARCHS = list(TINY)


def dictionary(words):
    d = Dictionary()
    for w in words:
        d.add_symbol(w)
    d.pad_to_multiple_(8)  # adds madeupword fillers, as fairseq-preprocess does
    return d


def make_task(table_rows=None, table_dim=TABLE_DIM):
    src = dictionary([f"s{i}" for i in range(10)])
    tgt = dictionary([f"t{i}" for i in range(13)])
    rows = len(tgt) if table_rows is None else table_rows
    generator = torch.Generator().manual_seed(0)
    table = nn.functional.normalize(torch.randn(rows, table_dim, generator=generator), dim=1)
    return SimpleNamespace(source_dictionary=src, target_dictionary=tgt, target_embeddings=table)


def build(arch, task=None, **extra):
    task = task or make_task()
    args = argparse.Namespace(arch=arch, **TINY[arch], **extra)
    model_cls = ARCH_MODEL_REGISTRY[arch]
    return model_cls.build_model(args, task), task, args


def batch(task, bsz=3, src_len=5, tgt_len=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, len(task.source_dictionary) - 3, (bsz, src_len), generator=g)
    prev = torch.randint(4, len(task.target_dictionary) - 3, (bsz, tgt_len), generator=g)
    prev[:, 0] = task.target_dictionary.eos()
    return src, torch.full((bsz,), src_len), prev


@pytest.mark.parametrize("arch", ARCHS)
def test_forward_backward_shapes(arch):
    model, task, _ = build(arch)
    src, lengths, prev = batch(task)
    vectors, extra = model(src, lengths, prev)
    assert vectors.shape == (3, 6, TABLE_DIM)
    vectors.pow(2).sum().backward()
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for n, p in trainable if "encoder" in n or "output" in n)
    assert model.get_target_embeddings().shape == (len(task.target_dictionary), TABLE_DIM)


@pytest.mark.parametrize("arch", ARCHS)
def test_normalized_probs_are_the_renormalised_vmf_density(arch):
    model, task, _ = build(arch)
    model.eval()
    src, lengths, prev = batch(task)
    net_output = model(src, lengths, prev)
    lprobs = model.get_normalized_probs(net_output, log_probs=True)
    d = task.target_dictionary
    assert lprobs.shape == (3, 6, len(d))
    torch.testing.assert_close(lprobs.exp().sum(-1), torch.ones(3, 6))
    never = [d.pad(), d.bos()] + [i for i, s in enumerate(d.symbols) if s.startswith("madeupword")]
    assert len(never) > 2 and bool(torch.isinf(lprobs[..., never]).all())
    allowed = [i for i in range(len(d)) if i not in never]
    expected = torch.log_softmax(net_output[0] @ model.get_target_embeddings()[allowed].t(), dim=-1)
    torch.testing.assert_close(lprobs[..., allowed], expected)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("tied", [False, True])
def test_incremental_decoding_equals_full_decoding(arch, tied):
    model, task, _ = build(arch, tie_target_embeddings=tied)
    model.eval()
    src, lengths, prev = batch(task)
    with torch.no_grad():
        full, _ = model(src, lengths, prev)
        encoder_out = model.encoder(src, src_lengths=lengths)
        state = {}
        steps = []
        for t in range(prev.size(1)):
            out, _ = model.decoder(prev[:, : t + 1], encoder_out=encoder_out, incremental_state=state)
            steps.append(out[:, -1])
    torch.testing.assert_close(torch.stack(steps, dim=1), full, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arch", ARCHS)
def test_tied_table_stays_frozen_and_nothing_trainable_is_vocabulary_sized(arch):
    model, task, _ = build(arch, tie_target_embeddings=True)
    vocab = len(task.target_dictionary)
    table_before = model.get_target_embeddings().clone()
    head = model.decoder.output_projection
    for module in (head, model.decoder.embed_tokens):
        for name, p in module.named_parameters():
            assert vocab not in p.shape, name
    output, inputs, total = model.parameter_counts()
    assert output == (20 if "lstm" in arch else 16) * TABLE_DIM + TABLE_DIM
    assert inputs == TABLE_DIM * 16  # the projection 8 -> 16, no table rows
    assert total == sum(p.numel() for p in model.parameters() if p.requires_grad)

    # the table is a buffer, never a parameter: that it stays frozen through real fairseq-train
    # updates and a checkpoint is tested end to end in tests/integration/test_vmf_training.py
    assert not any(p is model.get_target_embeddings() for p in model.parameters())
    # the tied input embedding of a word is its projected table row
    emb = model.decoder.embed_tokens(torch.tensor([[5]]))
    torch.testing.assert_close(emb[0, 0], model.decoder.embed_tokens.projection(table_before[5]))


@pytest.mark.parametrize("arch", ARCHS)
def test_untied_output_layer_has_no_vocabulary_sized_weight(arch):
    model, task, _ = build(arch)
    vocab = len(task.target_dictionary)
    for name, p in model.decoder.output_projection.named_parameters():
        assert vocab not in p.shape, name
    # the table is a buffer (saved in checkpoints), not a parameter
    assert "decoder.output_projection.target_embeddings" in model.state_dict()
    assert not any("target_embeddings" in n for n, _ in model.named_parameters())


@pytest.mark.parametrize("arch", ARCHS)
def test_model_builds_from_a_checkpoint_shape_without_the_table(arch):
    model, task, args = build(arch)
    state = model.state_dict()
    bare = make_task()
    bare.target_embeddings = None
    again = ARCH_MODEL_REGISTRY[arch].build_model(args, bare)  # args now carry target_embed_dim
    again.load_state_dict(state)
    torch.testing.assert_close(again.get_target_embeddings(), model.get_target_embeddings())


def test_bad_tables_and_flags_are_named():
    with pytest.raises(InputError, match="table has 5 rows but the target dictionary has 24 symbols"):
        build("continuous_transformer_small", task=make_task(table_rows=5))
    with pytest.raises(InputError, match="--target-embed-dim 12 differs from the target embedding table's dimension 8"):
        build("continuous_transformer_small", target_embed_dim=12)
    bare = make_task()
    bare.target_embeddings = None
    with pytest.raises(InputError, match="need a target embedding table"):
        build("continuous_lstm_small", task=bare)
    with pytest.raises(InputError, match="use --tie-target-embeddings"):
        build("continuous_transformer_small", share_decoder_input_output_embed=True)


@pytest.mark.parametrize("arch", ["continuous_transformer_small", "continuous_lstm_small"])
@pytest.mark.parametrize("tied", [False, True])
def test_a_larger_decoding_table_adds_outputs_and_inputs(arch, tied):
    model, task, _ = build(arch, tie_target_embeddings=tied)
    model.eval()
    vocab = len(task.target_dictionary)
    extra = nn.functional.normalize(torch.randn(5, TABLE_DIM), dim=1)
    src, lengths, prev = batch(task)
    with torch.no_grad():
        before = model.get_normalized_probs(model(src, lengths, prev), log_probs=True)
        model.extend_target_embeddings(extra, task.target_dictionary.unk())
        after = model.get_normalized_probs(model(src, lengths, prev), log_probs=True)
        assert after.shape[-1] == vocab + 5
        # same logits for the known words, renormalised over more words
        shift = (before[..., 4:10] - after[..., 4:10])
        torch.testing.assert_close(shift, shift[..., :1].expand_as(shift), rtol=1e-4, atol=1e-4)
        prev_new = prev.clone()
        prev_new[:, 2] = vocab + 3  # a word only the larger table has
        vectors, _ = model(src, lengths, prev_new)
        assert torch.isfinite(vectors).all()
        if not tied:  # untied inputs embed it as <unk>
            prev_unk = prev.clone()
            prev_unk[:, 2] = task.target_dictionary.unk()
            torch.testing.assert_close(vectors, model(src, lengths, prev_unk)[0])


@pytest.mark.parametrize("continuous, plif", [("continuous_lstm", "plif_lstm"),
                                              ("continuous_lstm_small", "plif_lstm_small")])
def test_continuous_and_plif_lstms_share_their_body_sizes(continuous, plif):
    """The softmax comparison must be the same body: only the output dimension differs
    (the continuous head reads the decoder state, tied softmax needs the embedding size)."""
    from fairseq.models import ARCH_CONFIG_REGISTRY

    sizes = {}
    for arch in (continuous, plif):
        args = argparse.Namespace()
        ARCH_CONFIG_REGISTRY[arch](args)
        sizes[arch] = {name: getattr(args, name) for name in (
            "dropout", "encoder_embed_dim", "encoder_hidden_size", "encoder_layers", "encoder_bidirectional",
            "decoder_embed_dim", "decoder_hidden_size", "decoder_layers", "decoder_out_embed_dim")}
    assert sizes[continuous]["decoder_out_embed_dim"] == sizes[continuous]["decoder_hidden_size"]
    assert sizes[plif]["decoder_out_embed_dim"] == sizes[plif]["decoder_embed_dim"]
    del sizes[continuous]["decoder_out_embed_dim"], sizes[plif]["decoder_out_embed_dim"]
    assert sizes[continuous] == sizes[plif]
    # a user's choice survives the defaults
    args = argparse.Namespace(decoder_layers=1)
    ARCH_CONFIG_REGISTRY[continuous](args)
    assert args.decoder_layers == 1


@pytest.mark.parametrize("arch", ["continuous_transformer_small", "continuous_lstm_small"])
def test_output_layer_norm_normalises_each_predicted_vector(arch):
    model, task, args = build(arch, output_layer_norm=True)
    src, lengths, prev = batch(task)
    vectors, _ = model(src, lengths, prev)
    # LayerNorm with its initial gain 1 and bias 0: every vector has mean 0 and variance
    # v / (v + eps) of its input's variance v, i.e. just under 1
    torch.testing.assert_close(vectors.mean(-1), torch.zeros(vectors.shape[:-1]), atol=1e-5, rtol=0)
    variance = vectors.var(-1, unbiased=False)
    assert variance.max() <= 1.0 + 1e-5 and variance.min() > 0.5
    names = {n for n, _ in model.named_parameters()}
    assert {"decoder.output_projection.layer_norm.weight", "decoder.output_projection.layer_norm.bias"} <= names
    # a model built from args that predate the flag (old checkpoints) has no LayerNorm
    old_args = argparse.Namespace(arch=arch, **TINY[arch])
    old = ARCH_MODEL_REGISTRY[arch].build_model(old_args, make_task())
    assert old.decoder.output_projection.layer_norm is None and old_args.output_layer_norm is False


@pytest.mark.parametrize("size", ["small", "tiny"])
def test_continuous_softmax_and_plif_transformers_share_their_body_sizes(size):
    from fairseq_vmf.models.transformer_bodies import SMALL_TRANSFORMER, TINY_TRANSFORMER

    body = {"small": SMALL_TRANSFORMER, "tiny": TINY_TRANSFORMER}[size]
    from fairseq.models import ARCH_CONFIG_REGISTRY

    sizes = []
    for family in ("continuous", "softmax", "plif"):
        args = argparse.Namespace()
        ARCH_CONFIG_REGISTRY[f"{family}_transformer_{size}"](args)  # the architecture's defaults
        sizes.append({name: getattr(args, name) for name in body})
    assert sizes[0] == sizes[1] == sizes[2] == body
