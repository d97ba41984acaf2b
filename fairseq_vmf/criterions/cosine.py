"""The cosine-distance baseline of the paper (``--criterion cosine``)."""

from dataclasses import dataclass

from fairseq.criterions import register_criterion

from ..maths.losses import cosine_loss
from .continuous_output import ContinuousOutputCriterion, ContinuousOutputCriterionConfig


@dataclass
class CosineCriterionConfig(ContinuousOutputCriterionConfig):
    pass


@register_criterion("cosine", dataclass=CosineCriterionConfig)
class CosineOutputCriterion(ContinuousOutputCriterion):
    """1 - cos(e_hat, e(w)) per token (Kumar & Tsvetkov 2019, section 4, "cosine")."""

    def token_losses(self, pred, target, target_index, table, model):
        return cosine_loss(pred, target)
