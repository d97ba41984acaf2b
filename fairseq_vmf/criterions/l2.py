"""The squared-L2 baseline of the paper (``--criterion l2``)."""

from dataclasses import dataclass

from fairseq.criterions import register_criterion

from ..maths.losses import l2_loss
from .continuous_output import ContinuousOutputCriterion, ContinuousOutputCriterionConfig


@dataclass
class L2CriterionConfig(ContinuousOutputCriterionConfig):
    pass


@register_criterion("l2", dataclass=L2CriterionConfig)
class L2OutputCriterion(ContinuousOutputCriterion):
    """||e_hat - e(w)||^2 per token, the raw prediction against the unit target
    (Kumar & Tsvetkov 2019, section 4, "L2")."""

    def token_losses(self, pred, target, target_index, table, model):
        return l2_loss(pred, target)
