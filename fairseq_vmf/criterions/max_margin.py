"""The max-margin baseline of the paper (``--criterion max_margin``)."""

from dataclasses import dataclass, field

from fairseq.criterions import register_criterion
from fairseq.dataclass import ChoiceEnum

from ..errors import InputError
from ..maths.losses import MAX_MARGIN_NEGATIVES, max_margin_loss
from .continuous_output import ContinuousOutputCriterion, ContinuousOutputCriterionConfig


@dataclass
class MaxMarginCriterionConfig(ContinuousOutputCriterionConfig):
    margin: float = field(
        default=0.5,
        metadata={"help": "hinge margin gamma on cosines (the paper's code: 0.5)"},
    )
    margin_negative: ChoiceEnum(list(MAX_MARGIN_NEGATIVES)) = field(
        default="hardest",
        metadata={"help": "the one negative per token: 'hardest' = the other word closest to "
                          "the prediction; 'projection' = the released code's "
                          "argmax cos(e_hat,e_j) - cos(e_w,e_j)"},
    )


@register_criterion("max_margin", dataclass=MaxMarginCriterionConfig)
class MaxMarginOutputCriterion(ContinuousOutputCriterion):
    """max(0, gamma + cos(e_hat, e_neg) - cos(e_hat, e(w))) per token, one negative each
    (Kumar & Tsvetkov 2019, section 4, "max-margin"; see ``max_margin_loss``).

    The negative is never padding or ``<s>``; the search scans the table in chunks of
    ``--neighbour-chunk-size`` rows, so it never holds a tokens x vocabulary matrix.
    """

    def __init__(self, task, sentence_avg, neighbour_chunk_size, margin, margin_negative, ignore_unk_targets=False):
        super().__init__(task, sentence_avg, neighbour_chunk_size, ignore_unk_targets)
        if margin < 0:
            raise InputError(f"--margin must be >= 0, got {margin}")
        self.margin = margin
        self.negative = str(margin_negative)

    def token_losses(self, pred, target, target_index, table, model):
        shape = target_index.shape
        losses = max_margin_loss(
            pred.reshape(-1, pred.size(-1)),
            target.reshape(-1, target.size(-1)),
            target_index.reshape(-1),
            table,
            self.margin,
            self.negative,
            self._banned_rows(table),
            self.neighbour_chunk_size,
        )
        return losses.view(shape)
