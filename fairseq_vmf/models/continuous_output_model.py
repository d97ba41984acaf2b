"""What continuous-output models share, whatever their body (Transformer, LSTM).

* the target table comes from the task (``translation_vmf --target-embeddings``) when
  training, or from the checkpoint when decoding (a placeholder of the saved shape is
  built first and ``load_state_dict`` fills it);
* ``get_target_embeddings()`` for the criteria and the generator;
* the update count, for the vMF criterion's cosine warm-up;
* ``ContinuousDecoderMixin``: the decoders' ``get_normalized_probs`` (fairseq's models and
  generators reach it through the decoder): the vMF density renormalised over the table rows;
* parameter counts, logged when the model is built.
"""

import logging

import torch

from ..errors import InputError
from ..modules import ExtendedVocabularyInputs, FrozenTableEmbedding

logger = logging.getLogger(__name__)


def table_for_model(args, task) -> torch.Tensor:
    """The (V, m) table the model is built around; sets ``args.target_embed_dim``."""
    dictionary = task.target_dictionary
    table = getattr(task, "target_embeddings", None)
    wanted_dim = getattr(args, "target_embed_dim", None)
    if table is not None:
        table = torch.as_tensor(table, dtype=torch.float32)
        if table.size(0) != len(dictionary):
            raise InputError(
                f"the target embedding table has {table.size(0)} rows but the target "
                f"dictionary has {len(dictionary)} symbols"
            )
        if wanted_dim is not None and int(wanted_dim) != table.size(1):
            raise InputError(
                f"--target-embed-dim {wanted_dim} differs from the target embedding table's "
                f"dimension {table.size(1)}; the output dimension must equal the table's"
            )
        args.target_embed_dim = int(table.size(1))
        return table
    if wanted_dim is None:
        raise InputError(
            "continuous-output models need a target embedding table: train with "
            "--task translation_vmf --target-embeddings TABLE.npz"
        )
    # decoding from a checkpoint: the saved table overwrites this placeholder on load
    return torch.zeros(len(dictionary), int(wanted_dim))


def add_continuous_args(parser) -> None:
    parser.add_argument(
        "--tie-target-embeddings", action="store_true",
        help="decoder input embeddings = the frozen target table (+ a learned projection "
             "if its dimension differs from --decoder-embed-dim); the paper's best setting",
    )
    parser.add_argument(
        "--output-layer-norm", action="store_true",
        help="LayerNorm on the predicted vector (the authors' Transformer recipe); its gain "
             "then sets the vMF concentration",
    )
    parser.add_argument(
        "--target-embed-dim", type=int, metavar="M",
        help="output dimension; taken from the target embedding table (set it only to "
             "assert the table's dimension)",
    )


def set_default(args, name, value) -> None:
    """Architecture defaults: keep what the user (or a smaller variant) already set."""
    if getattr(args, name, None) is None:
        setattr(args, name, value)


def set_body_defaults(args, body: dict) -> None:
    """Fill in a body's sizes (models/lstm_bodies.py, models/transformer_bodies.py) where
    the user set nothing."""
    for name, value in body.items():
        set_default(args, name, value)


def count_trainable(module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class ContinuousDecoderMixin:
    """Mixed into fairseq decoders whose ``output_projection`` is a ``ContinuousOutputHead``:
    fairseq's ``get_normalized_probs`` (model and decoder) ends in this hook."""

    def get_normalized_probs_scriptable(self, net_output, log_probs, sample=None):
        return self.output_projection.normalized_probs(net_output[0], log_probs)


class ContinuousOutputModelMixin:
    """Mixed into fairseq encoder-decoder models whose decoder has ``output_projection``
    (a ``ContinuousOutputHead``)."""

    num_updates = 0

    def get_target_embeddings(self) -> torch.Tensor:
        return self.decoder.output_projection.target_embeddings

    def set_num_updates(self, num_updates):
        super().set_num_updates(num_updates)
        self.num_updates = num_updates

    def get_num_updates(self) -> int:
        return self.num_updates

    def extend_target_embeddings(self, extra: torch.Tensor, unk_idx: int) -> None:
        """Append rows (words unseen in training) to the table used for decoding.

        Tied decoder inputs read the new rows like any other; untied ones embed the
        new words as ``<unk>``. Only for decoding: the checkpoint's table is unchanged.
        """
        head = self.decoder.output_projection
        known = head.target_embeddings.size(0)
        table = head.target_embeddings
        head.target_embeddings = torch.cat([table, extra.to(device=table.device, dtype=table.dtype)], dim=0)
        inputs = self.decoder.embed_tokens
        if not isinstance(inputs, (FrozenTableEmbedding, ExtendedVocabularyInputs)):
            self.decoder.embed_tokens = ExtendedVocabularyInputs(inputs, known, unk_idx)

    def parameter_counts(self):
        """Trainable parameters: (output layer, decoder input embeddings, whole model)."""
        return (
            count_trainable(self.decoder.output_projection),
            count_trainable(self.decoder.embed_tokens),
            count_trainable(self),
        )

    def log_parameter_counts(self) -> None:
        head = self.decoder.output_projection
        vocabulary, dim = head.target_embeddings.shape
        output, inputs, total = self.parameter_counts()
        softmax = vocabulary * (head.projection.in_features + 1)
        logger.info(
            "continuous output layer: %d trainable parameters (%d-d output; a softmax over "
            "%d words would have %d); decoder input embeddings: %d trainable; model: %d trainable",
            output, dim, vocabulary, softmax, inputs, total,
        )
