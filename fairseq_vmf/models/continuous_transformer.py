"""``continuous_transformer``: fairseq's Transformer with a continuous output layer."""

from fairseq.models import register_model, register_model_architecture
from fairseq.models.transformer import (
    DEFAULT_MAX_SOURCE_POSITIONS,
    DEFAULT_MAX_TARGET_POSITIONS,
    DEFAULT_MIN_PARAMS_TO_WRAP,
    TransformerConfig,
    TransformerDecoderBase,
    TransformerModel,
)
from fairseq.models.transformer import base_architecture as transformer_base_architecture

from ..errors import InputError
from ..modules import ContinuousOutputHead, FrozenTableEmbedding
from ..modules.continuous_output_head import never_predicted_indices
from .continuous_output_model import (
    ContinuousDecoderMixin,
    ContinuousOutputModelMixin,
    add_continuous_args,
    set_default,
    table_for_model,
)
from .transformer_bodies import SMALL_TRANSFORMER, TINY_TRANSFORMER, set_body_defaults


class ContinuousTransformerDecoder(ContinuousDecoderMixin, TransformerDecoderBase):
    """fairseq's Transformer decoder whose ``output_projection`` is a ContinuousOutputHead.

    Built as fairseq's own (args-style) TransformerModel builds its decoder: from a
    ``TransformerConfig`` of the args, on ``TransformerDecoderBase``, as plif_transformer.

    Incremental decoding and beam reordering are the stock ones; ``output_layer``
    returns (B, T, m) vectors instead of (B, T, V) logits.
    """


@register_model("continuous_transformer")
class ContinuousTransformerModel(ContinuousOutputModelMixin, TransformerModel):
    """Transformer encoder-decoder predicting a target-embedding vector per position
    (Kumar & Tsvetkov 2019, with the Transformer body of their released code)."""

    @classmethod
    def add_args(cls, parser):
        super().add_args(parser)
        add_continuous_args(parser)

    @classmethod
    def build_model(cls, args, task):
        continuous_transformer(args)
        if args.share_all_embeddings or args.share_decoder_input_output_embed:
            raise InputError(
                "--share-all-embeddings / --share-decoder-input-output-embed do not apply to "
                "continuous outputs (there is no output embedding matrix); use "
                "--tie-target-embeddings to tie the decoder inputs to the target table"
            )
        if args.adaptive_softmax_cutoff:
            raise InputError("--adaptive-softmax-cutoff does not apply to continuous outputs")
        if getattr(args, "max_source_positions", None) is None:
            args.max_source_positions = DEFAULT_MAX_SOURCE_POSITIONS
        if getattr(args, "max_target_positions", None) is None:
            args.max_target_positions = DEFAULT_MAX_TARGET_POSITIONS
        args.min_params_to_wrap = getattr(args, "min_params_to_wrap", DEFAULT_MIN_PARAMS_TO_WRAP)
        table = table_for_model(args, task)
        src_dict, tgt_dict = task.source_dictionary, task.target_dictionary

        head = ContinuousOutputHead(args.decoder_output_dim, table, never_predicted_indices(tgt_dict),
                                    layer_norm=args.output_layer_norm)
        if args.tie_target_embeddings:
            decoder_embed = FrozenTableEmbedding(head, args.decoder_embed_dim, tgt_dict.pad())
        else:
            decoder_embed = cls.build_embedding(args, tgt_dict, args.decoder_embed_dim, args.decoder_embed_path)
        encoder_embed = cls.build_embedding(args, src_dict, args.encoder_embed_dim, args.encoder_embed_path)
        encoder = cls.build_encoder(args, src_dict, encoder_embed)
        decoder = ContinuousTransformerDecoder(
            TransformerConfig.from_namespace(args), tgt_dict, decoder_embed,
            no_encoder_attn=args.no_cross_attention, output_projection=head,
        )
        model = cls(args, encoder, decoder)
        model.log_parameter_counts()
        return model


@register_model_architecture("continuous_transformer", "continuous_transformer")
def continuous_transformer(args):
    """fairseq's transformer base body (6+6 layers, 512-d, 8 heads) with a continuous output."""
    set_default(args, "tie_target_embeddings", False)
    set_default(args, "output_layer_norm", False)
    transformer_base_architecture(args)


@register_model_architecture("continuous_transformer", "continuous_transformer_small")
def continuous_transformer_small(args):
    """The small body (models/transformer_bodies.py): 3+3 layers, 256-d, 4 heads."""
    set_body_defaults(args, SMALL_TRANSFORMER)
    continuous_transformer(args)


@register_model_architecture("continuous_transformer", "continuous_transformer_tiny")
def continuous_transformer_tiny(args):
    """The tiny body (models/transformer_bodies.py): 4+4 layers, 128-d, FFN 256, 4 heads."""
    set_body_defaults(args, TINY_TRANSFORMER)
    continuous_transformer(args)
