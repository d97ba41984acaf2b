"""LSTM body sizes shared by the continuous and the PLIF LSTM architectures.

One definition per size, so the continuous model and its softmax comparison cannot drift
apart. The output dimension (``decoder_out_embed_dim``) is not part of the body: each
architecture sets its own (the table dimension's input, or the tied embedding size).
"""

from .continuous_output_model import set_body_defaults  # noqa: F401  (the bodies' users import it here)

# The paper's: 2-layer BiLSTM encoder (512 per direction), 2-layer 1024-unit attentional
# decoder with input feeding, 512-d embeddings, no dropout.
PAPER_LSTM = dict(
    dropout=0.0,
    encoder_embed_dim=512,
    encoder_hidden_size=512,
    encoder_layers=2,
    encoder_bidirectional=True,
    decoder_embed_dim=512,
    decoder_hidden_size=1024,
    decoder_layers=2,
)

# For Multi30k on 2 CPU cores: 1-layer BiLSTM (256 per direction), 512-unit decoder.
SMALL_LSTM = dict(
    dropout=0.2,
    encoder_embed_dim=256,
    encoder_hidden_size=256,
    encoder_layers=1,
    decoder_embed_dim=256,
    decoder_hidden_size=512,
    decoder_layers=1,
)

