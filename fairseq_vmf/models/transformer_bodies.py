"""Transformer body sizes shared by the continuous, the softmax and the PLIF architectures.

One definition per size, so a continuous model and its softmax twins cannot drift apart:
``continuous_transformer_{small,tiny}``, ``softmax_transformer_{small,tiny}`` (fairseq's own
softmax Transformer under a name of this plugin) and ``plif_transformer_{small,tiny}``.
The output layer is not part of the body: each architecture has its own.
"""

from fairseq.models import register_model_architecture
from fairseq.models.transformer import base_architecture as transformer_base_architecture

from .continuous_output_model import set_body_defaults

# Trains on Multi30k on 2 CPU cores in an hour: 3+3 layers, 256-d, 4 heads (the shared
# notes' softmax anchor body).
SMALL_TRANSFORMER = dict(
    encoder_embed_dim=256, encoder_ffn_embed_dim=1024, encoder_layers=3, encoder_attention_heads=4,
    decoder_embed_dim=256, decoder_ffn_embed_dim=1024, decoder_layers=3, decoder_attention_heads=4,
    dropout=0.2,
)

# Wu et al. (2021)'s "Transformer-Tiny" for Multi30k: 4+4 layers, 128-d, FFN 256, 4 heads;
# about 2x cheaper per update than the small body on 2 CPU cores (scripts/per_update_cost.sh).
TINY_TRANSFORMER = dict(
    encoder_embed_dim=128, encoder_ffn_embed_dim=256, encoder_layers=4, encoder_attention_heads=4,
    decoder_embed_dim=128, decoder_ffn_embed_dim=256, decoder_layers=4, decoder_attention_heads=4,
    dropout=0.3,
)



@register_model_architecture("transformer", "softmax_transformer_small")
def softmax_transformer_small(args):
    """fairseq's softmax Transformer with the small body."""
    set_body_defaults(args, SMALL_TRANSFORMER)
    transformer_base_architecture(args)


@register_model_architecture("transformer", "softmax_transformer_tiny")
def softmax_transformer_tiny(args):
    """fairseq's softmax Transformer with the tiny body."""
    set_body_defaults(args, TINY_TRANSFORMER)
    transformer_base_architecture(args)
