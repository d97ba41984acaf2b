"""``--criterion tied_augmented_ce``: label-smoothed cross-entropy plus Inan et al.'s augmented loss."""

import math
from dataclasses import dataclass, field

from fairseq import metrics
from fairseq.criterions import register_criterion
from fairseq.criterions.label_smoothed_cross_entropy import (
    LabelSmoothedCrossEntropyCriterion,
    LabelSmoothedCrossEntropyCriterionConfig,
)

from ..errors import InputError
from ..maths.augmented_loss import augmented_kl


@dataclass
class TiedAugmentedCrossEntropyConfig(LabelSmoothedCrossEntropyCriterionConfig):
    aug_temperature: float = field(
        default=10.0,
        metadata={"help": "tau of the soft targets softmax(L^T u / tau) and of the model side "
                          "softmax(z / tau) (Inan et al. section 3; 10 in their experiments' "
                          "released settings)"},
    )
    aug_gamma: float = field(
        default=0.5,
        metadata={"help": "weight of the augmented term as alpha = gamma * tau (0.5: the Penn "
                          "Treebank setting; 0 gives plain cross-entropy)"},
    )
    aug_target_gradient: bool = field(
        default=False,
        metadata={"help": "let the gradient flow through the soft targets into the embeddings "
                          "(the paper treats them as constants)"},
    )


@register_criterion("tied_augmented_ce", dataclass=TiedAugmentedCrossEntropyConfig)
class TiedAugmentedCrossEntropyCriterion(LabelSmoothedCrossEntropyCriterion):
    """J = J_CE + alpha * KL(y~ || y^) (Inan, Khosravi & Socher, ICLR 2017, eq. 3.1-3.3),
    with J_CE fairseq's label-smoothed cross-entropy and the soft targets y~ built from the
    decoder's input embeddings. Meant for tied input/output embeddings
    (--share-decoder-input-output-embed: "REAL" in the paper), works untied ("AL") too.
    Generation is unchanged: the augmented term only shapes training."""

    def __init__(self, task, sentence_avg, label_smoothing, ignore_prefix_size=0, report_accuracy=False,
                 aug_temperature=10.0, aug_gamma=0.5, aug_target_gradient=False):
        super().__init__(task, sentence_avg, label_smoothing, ignore_prefix_size, report_accuracy)
        if not aug_temperature > 0:
            raise InputError(f"--aug-temperature must be positive, got {aug_temperature}")
        if aug_gamma < 0:
            raise InputError(f"--aug-gamma must be >= 0, got {aug_gamma}")
        self.temperature = aug_temperature
        self.weight = aug_gamma * aug_temperature  # alpha
        self.target_gradient = aug_target_gradient

    def forward(self, model, sample, reduce=True):
        net_output = model(**sample["net_input"])
        loss, nll_loss = self.compute_loss(model, net_output, sample, reduce=reduce)
        aug = self.compute_augmented_loss(model, net_output, sample)
        if reduce:
            aug = aug.sum()
        else:  # fairseq's unreduced label-smoothed losses are (N, 1); the KL is (N,)
            loss, nll_loss = loss.view(-1), nll_loss.view(-1)
        loss = loss + self.weight * aug
        sample_size = sample["target"].size(0) if self.sentence_avg else sample["ntokens"]
        logging_output = {
            "loss": loss.data,
            "nll_loss": nll_loss.data,
            "aug_loss": aug.data,
            "ntokens": sample["ntokens"],
            "nsentences": sample["target"].size(0),
            "sample_size": sample_size,
        }
        if self.report_accuracy:
            n_correct, total = self.compute_accuracy(model, net_output, sample)
            logging_output["n_correct"] = n_correct.item()
            logging_output["total"] = total.item()
        return loss, sample_size, logging_output

    def compute_augmented_loss(self, model, net_output, sample):
        embed = getattr(model.decoder, "embed_tokens", None)
        weight = getattr(embed, "weight", None)
        logits = net_output[0]
        if weight is None or weight.dim() != 2 or weight.size(0) != logits.size(-1):
            raise InputError("--criterion tied_augmented_ce needs a decoder with a (V x d) input embedding "
                             "matrix embed_tokens and V logits (a softmax model without adaptive softmax)")
        target = model.get_targets(sample, net_output)
        if self.ignore_prefix_size > 0:
            logits = logits[:, self.ignore_prefix_size:, :]
            target = target[:, self.ignore_prefix_size:]
        return augmented_kl(logits.reshape(-1, logits.size(-1)), target.reshape(-1), weight,
                            self.temperature, self.padding_idx, detach_targets=not self.target_gradient)

    @classmethod
    def reduce_metrics(cls, logging_outputs) -> None:
        super().reduce_metrics(logging_outputs)
        aug_sum = sum(log.get("aug_loss", 0) for log in logging_outputs)
        ntokens = sum(log.get("ntokens", 0) for log in logging_outputs)
        if ntokens > 0:
            metrics.log_scalar("aug_loss", aug_sum / ntokens / math.log(2), ntokens, round=3)
