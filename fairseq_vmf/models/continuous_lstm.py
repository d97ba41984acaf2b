"""``continuous_lstm``: fairseq's attentional LSTM with a continuous output layer.

The paper's model (Kumar & Tsvetkov 2019, section 5): a bidirectional LSTM encoder, an
LSTM decoder with Luong attention and input feeding (fairseq's LSTMDecoder always feeds
the attentional state back), and an output projection to the embedding dimension.
"""

from fairseq import utils
from fairseq.models import register_model, register_model_architecture
from fairseq.models.lstm import (
    DEFAULT_MAX_SOURCE_POSITIONS,
    DEFAULT_MAX_TARGET_POSITIONS,
    Embedding,
    LSTMDecoder,
    LSTMEncoder,
    LSTMModel,
)
from fairseq.models.lstm import base_architecture as lstm_base_architecture

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
from .lstm_bodies import PAPER_LSTM, SMALL_LSTM, set_body_defaults


class ContinuousLSTMDecoder(ContinuousDecoderMixin, LSTMDecoder):
    """fairseq's LSTMDecoder with ``output_projection`` (a ContinuousOutputHead) in place
    of its vocabulary projection ``fc_out``, which is never allocated."""

    def __init__(self, head: ContinuousOutputHead, **kwargs):
        # share_input_output_embed=True stops LSTMDecoder from building fc_out (V x d);
        # output_layer below never uses the input embeddings as outputs.
        super().__init__(share_input_output_embed=True, **kwargs)
        self.share_input_output_embed = False
        self.output_projection = head

    def output_layer(self, x):
        return self.output_projection(x)


@register_model("continuous_lstm")
class ContinuousLSTMModel(ContinuousOutputModelMixin, LSTMModel):
    """Attentional LSTM encoder-decoder predicting a target-embedding vector per step."""

    @classmethod
    def add_args(cls, parser):
        super().add_args(parser)
        add_continuous_args(parser)

    @classmethod
    def build_model(cls, args, task):
        continuous_lstm(args)
        if args.encoder_layers != args.decoder_layers:
            raise InputError("--encoder-layers must match --decoder-layers (fairseq's LSTM model)")
        if args.share_all_embeddings or args.share_decoder_input_output_embed:
            raise InputError(
                "--share-all-embeddings / --share-decoder-input-output-embed do not apply to "
                "continuous outputs; use --tie-target-embeddings"
            )
        if args.decoder_embed_path and args.tie_target_embeddings:
            raise InputError("--decoder-embed-path and --tie-target-embeddings exclude each other")
        table = table_for_model(args, task)
        src_dict, tgt_dict = task.source_dictionary, task.target_dictionary

        encoder_embed = None
        if args.encoder_embed_path:
            encoder_embed = Embedding(len(src_dict), args.encoder_embed_dim, src_dict.pad())
            encoder_embed = utils.load_embedding(utils.parse_embedding(args.encoder_embed_path), src_dict, encoder_embed)
            if args.encoder_freeze_embed:
                encoder_embed.weight.requires_grad = False
        encoder = LSTMEncoder(
            dictionary=src_dict,
            embed_dim=args.encoder_embed_dim,
            hidden_size=args.encoder_hidden_size,
            num_layers=args.encoder_layers,
            dropout_in=args.encoder_dropout_in,
            dropout_out=args.encoder_dropout_out,
            bidirectional=args.encoder_bidirectional,
            pretrained_embed=encoder_embed,
            max_source_positions=getattr(args, "max_source_positions", DEFAULT_MAX_SOURCE_POSITIONS),
        )

        head = ContinuousOutputHead(args.decoder_out_embed_dim, table, never_predicted_indices(tgt_dict),
                                    layer_norm=args.output_layer_norm)
        decoder_embed = None
        if args.tie_target_embeddings:
            decoder_embed = FrozenTableEmbedding(head, args.decoder_embed_dim, tgt_dict.pad())
        elif args.decoder_embed_path:
            decoder_embed = Embedding(len(tgt_dict), args.decoder_embed_dim, tgt_dict.pad())
            decoder_embed = utils.load_embedding(utils.parse_embedding(args.decoder_embed_path), tgt_dict, decoder_embed)
        decoder = ContinuousLSTMDecoder(
            head,
            dictionary=tgt_dict,
            embed_dim=args.decoder_embed_dim,
            hidden_size=args.decoder_hidden_size,
            out_embed_dim=args.decoder_out_embed_dim,
            num_layers=args.decoder_layers,
            dropout_in=args.decoder_dropout_in,
            dropout_out=args.decoder_dropout_out,
            attention=utils.eval_bool(args.decoder_attention),
            encoder_output_units=encoder.output_units,
            pretrained_embed=decoder_embed,
            max_target_positions=getattr(args, "max_target_positions", DEFAULT_MAX_TARGET_POSITIONS),
        )
        if args.decoder_freeze_embed and not args.tie_target_embeddings:
            decoder.embed_tokens.weight.requires_grad = False
        model = cls(encoder, decoder)
        model.log_parameter_counts()
        return model


@register_model_architecture("continuous_lstm", "continuous_lstm")
def continuous_lstm(args):
    """The paper's size: 2-layer BiLSTM encoder (512 per direction), 2-layer 1024-unit
    attentional decoder with input feeding, 512-d source embeddings, output = table dim."""
    set_default(args, "tie_target_embeddings", False)
    set_default(args, "output_layer_norm", False)
    set_body_defaults(args, PAPER_LSTM)
    set_default(args, "decoder_out_embed_dim", 1024)
    # no adaptive softmax: LSTM's base_architecture would otherwise set a cutoff
    set_default(args, "adaptive_softmax_cutoff", "")
    lstm_base_architecture(args)


@register_model_architecture("continuous_lstm", "continuous_lstm_small")
def continuous_lstm_small(args):
    """A body for Multi30k on 2 CPU cores: 1-layer BiLSTM (256 per direction), 512-unit decoder."""
    set_body_defaults(args, SMALL_LSTM)
    set_default(args, "decoder_out_embed_dim", 512)
    continuous_lstm(args)
