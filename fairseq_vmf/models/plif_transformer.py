"""``plif_transformer``: fairseq's softmax Transformer with LMS-PLIF on its logits."""

from fairseq.models import register_model, register_model_architecture
from fairseq.models.transformer import TransformerConfig, TransformerDecoderBase, TransformerModel
from fairseq.models.transformer import base_architecture as transformer_base_architecture

from ..errors import InputError
from .plif_options import add_plif_args, monotonic_logits_from_args, set_plif_defaults
from .transformer_bodies import SMALL_TRANSFORMER, TINY_TRANSFORMER, set_body_defaults


class PlifTransformerDecoder(TransformerDecoderBase):
    """The stock decoder; ``output_layer`` returns f(logits), so fairseq's criteria,
    ``get_normalized_probs`` (a log-softmax of them) and beam search all see the PLIF model."""

    def output_layer(self, features):
        return self.plif(super().output_layer(features))


@register_model("plif_transformer")
class PlifTransformerModel(TransformerModel):
    """Softmax Transformer whose logits pass through a learnable increasing function
    (Ganea et al. 2019). Works with --share-decoder-input-output-embed and every
    softmax criterion; not with adaptive softmax, whose decoder returns features."""

    @classmethod
    def add_args(cls, parser):
        super().add_args(parser)
        add_plif_args(parser)

    @classmethod
    def build_model(cls, args, task):
        plif_transformer(args)
        if args.adaptive_softmax_cutoff:
            raise InputError("--adaptive-softmax-cutoff cannot be combined with PLIF (plif_transformer)")
        plif = monotonic_logits_from_args(args)
        model = super().build_model(args, task)
        model.decoder.plif = plif
        return model

    @classmethod
    def build_decoder(cls, cfg, tgt_dict, embed_tokens):
        if not isinstance(cfg, TransformerConfig):
            cfg = TransformerConfig.from_namespace(cfg)
        return PlifTransformerDecoder(cfg, tgt_dict, embed_tokens, no_encoder_attn=cfg.no_cross_attention)


@register_model_architecture("plif_transformer", "plif_transformer")
def plif_transformer(args):
    """fairseq's transformer base body with PLIF (paper defaults K = 1e5, T = 20)."""
    set_plif_defaults(args)
    transformer_base_architecture(args)


@register_model_architecture("plif_transformer", "plif_transformer_small")
def plif_transformer_small(args):
    """The softmax twin of continuous_transformer_small (the small body) with PLIF."""
    set_body_defaults(args, SMALL_TRANSFORMER)
    plif_transformer(args)


@register_model_architecture("plif_transformer", "plif_transformer_tiny")
def plif_transformer_tiny(args):
    """The softmax twin of continuous_transformer_tiny (the tiny body) with PLIF."""
    set_body_defaults(args, TINY_TRANSFORMER)
    plif_transformer(args)
