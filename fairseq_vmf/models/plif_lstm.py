"""``plif_lstm``: fairseq's attentional softmax LSTM with LMS-PLIF on its logits."""

from fairseq.models import register_model, register_model_architecture
from fairseq.models.lstm import LSTMDecoder, LSTMModel
from fairseq.models.lstm import base_architecture as lstm_base_architecture

from ..errors import InputError
from .continuous_output_model import set_default
from .lstm_bodies import PAPER_LSTM, SMALL_LSTM, set_body_defaults
from .plif_options import add_plif_args, monotonic_logits_from_args, set_plif_defaults


class PlifLSTMDecoder(LSTMDecoder):
    """fairseq's LSTMDecoder whose ``output_layer`` returns f(logits)."""

    def output_layer(self, x):
        return self.plif(super().output_layer(x))


@register_model("plif_lstm")
class PlifLSTMModel(LSTMModel):
    """Softmax LSTM encoder-decoder with a learnable increasing function on its logits
    (Ganea et al. 2019); tied output embeddings with --share-decoder-input-output-embed."""

    @classmethod
    def add_args(cls, parser):
        super().add_args(parser)
        add_plif_args(parser)

    @classmethod
    def build_model(cls, args, task):
        plif_lstm(args)
        if getattr(args, "criterion", None) == "adaptive_loss":
            raise InputError("--criterion adaptive_loss cannot be combined with PLIF (plif_lstm)")
        plif = monotonic_logits_from_args(args)
        model = super().build_model(args, task)
        # LSTMModel.build_model constructs LSTMDecoder by name; giving the built decoder
        # the subclass (which only overrides output_layer) avoids duplicating that builder.
        model.decoder.__class__ = PlifLSTMDecoder
        model.decoder.plif = plif
        return model


@register_model_architecture("plif_lstm", "plif_lstm")
def plif_lstm(args):
    """The paper-size LSTM body of continuous_lstm (2-layer BiLSTM 512 per direction,
    2 x 1024 decoder with attention and input feeding), softmax output with PLIF."""
    set_plif_defaults(args)
    set_body_defaults(args, PAPER_LSTM)
    set_default(args, "decoder_out_embed_dim", 512)  # tied softmax: the embedding size
    lstm_base_architecture(args)


@register_model_architecture("plif_lstm", "plif_lstm_small")
def plif_lstm_small(args):
    """The body of continuous_lstm_small (1-layer BiLSTM 256 per direction, 512-unit decoder)."""
    set_body_defaults(args, SMALL_LSTM)
    set_default(args, "decoder_out_embed_dim", 256)
    plif_lstm(args)
