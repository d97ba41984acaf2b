"""The von Mises-Fisher negative log-likelihood criterion (``--criterion vmf``)."""

import logging
from dataclasses import dataclass, field

import torch

from fairseq.criterions import register_criterion
from fairseq.dataclass import ChoiceEnum

from ..errors import InputError
from ..maths.log_cmk import log_cmk
from ..maths.losses import cosine_loss, table_nll, vmf_nll, vmf_nll_released
from .continuous_output import ContinuousOutputCriterion, ContinuousOutputCriterionConfig

logger = logging.getLogger(__name__)

VMF_NORMALISERS = ChoiceEnum(["exact", "approximate"])
VMF_LOSS_FORMS = ChoiceEnum(["paper", "released"])
TABLE_CANDIDATES = ChoiceEnum(["batch", "all"])


@dataclass
class VmfCriterionConfig(ContinuousOutputCriterionConfig):
    vmf_lambda1: float = field(
        default=0.02,
        metadata={"help": "reg1: weight of the penalty lambda1*||e_hat|| on the concentration "
                          "(paper: 0.02; 0 disables)"},
    )
    vmf_lambda2: float = field(
        default=0.1,
        metadata={"help": "reg2: scale of the likelihood term -lambda2*e_hat.e(w) (paper: 0.1; "
                          "1 with lambda1=0 is the plain NLLvMF)"},
    )
    vmf_normaliser: VMF_NORMALISERS = field(
        default="exact",
        metadata={"help": "log C_m: 'exact' (pure-torch Bessel, exact value and gradient) or "
                          "'approximate' (the paper's appendix: gradient only approximates, "
                          "value is not the NLL)"},
    )
    vmf_loss_form: VMF_LOSS_FORMS = field(
        default="paper",
        metadata={"help": "'paper': -log C_m(k) - lambda2 e_hat.e(w) + lambda1 k (eq. 3 with reg1/reg2); "
                          "'released': the authors' code, -log C_m(k) + log(1+k)(margin - cos) with "
                          "--vmf-released-margin (the lambdas are unused then, as in that code)"},
    )
    vmf_released_margin: float = field(
        default=0.2,
        metadata={"help": "the margin of --vmf-loss-form released (the authors' code: 0.2)"},
    )
    vmf_table_nll_weight: float = field(
        default=0.0,
        metadata={"help": "add this times the vMF renormalised over table rows (a cross-entropy on "
                          "e_hat.e_j, the distribution --knn-score vmf decodes with): it also "
                          "pushes the prediction away from the other words, which the vMF "
                          "likelihood alone never does; 0 = off"},
    )
    vmf_table_candidates: TABLE_CANDIDATES = field(
        default="batch",
        metadata={"help": "rows of --vmf-table-nll-weight's renormalisation: 'batch' = the distinct "
                          "target words of the batch (cost independent of the vocabulary), 'all' = "
                          "every row a decoder may output"},
    )
    vmf_table_label_smoothing: float = field(
        default=0.0,
        metadata={"help": "label smoothing of the --vmf-table-nll-weight term: eps of the target "
                          "mass spread uniformly over the candidate rows (as "
                          "label_smoothed_cross_entropy does over the vocabulary); 0 = off"},
    )
    vmf_cosine_warmup_updates: int = field(
        default=0,
        metadata={"help": "train with the cosine loss for this many updates before switching "
                          "to vMF (the authors' advice for stability); 0 = off"},
    )


@register_criterion("vmf", dataclass=VmfCriterionConfig)
class VmfCriterion(ContinuousOutputCriterion):
    """NLLvMF(e_hat; e(w)) = -log C_m(||e_hat||) - lambda2 e_hat.e(w) + lambda1 ||e_hat||.

    Kumar & Tsvetkov (2019), eq. 3 (lambda1=0, lambda2=1) and its regularised forms
    (section 3.1, "reg1"/"reg2"). With the defaults it trains like the paper's setup.
    The loss can be negative; do not read it as a perplexity.
    """

    def __init__(self, task, sentence_avg, neighbour_chunk_size, vmf_lambda1, vmf_lambda2,
                 vmf_normaliser, vmf_cosine_warmup_updates, vmf_loss_form, vmf_released_margin,
                 vmf_table_nll_weight=0.0, vmf_table_candidates="batch", vmf_table_label_smoothing=0.0,
                 ignore_unk_targets=False):
        super().__init__(task, sentence_avg, neighbour_chunk_size, ignore_unk_targets)
        if vmf_lambda2 <= 0:
            raise InputError(f"--vmf-lambda2 must be > 0 (it scales the likelihood term), got {vmf_lambda2}")
        if vmf_lambda1 < 0:
            raise InputError(f"--vmf-lambda1 must be >= 0, got {vmf_lambda1}")
        if vmf_cosine_warmup_updates < 0:
            raise InputError(f"--vmf-cosine-warmup-updates must be >= 0, got {vmf_cosine_warmup_updates}")
        self.lambda1 = vmf_lambda1
        self.lambda2 = vmf_lambda2
        self.approximate = str(vmf_normaliser) == "approximate"
        self.cosine_warmup_updates = vmf_cosine_warmup_updates
        self.released_form = str(vmf_loss_form) == "released"
        if self.released_form and self.approximate:
            raise InputError("--vmf-loss-form released uses the exact log C_m; drop --vmf-normaliser approximate")
        self.released_margin = vmf_released_margin
        if vmf_table_nll_weight < 0:
            raise InputError(f"--vmf-table-nll-weight must be >= 0, got {vmf_table_nll_weight}")
        self.table_nll_weight = vmf_table_nll_weight
        self.all_table_candidates = str(vmf_table_candidates) == "all"
        if not 0 <= vmf_table_label_smoothing < 1:
            raise InputError(f"--vmf-table-label-smoothing must be in [0, 1), got {vmf_table_label_smoothing}")
        self.table_label_smoothing = vmf_table_label_smoothing
        table = getattr(task, "target_embeddings", None)
        if table is not None:
            m = int(torch.as_tensor(table).shape[1])
            constant = -float(log_cmk(torch.zeros((), dtype=torch.float64), m))
            logger.info("nll_vmf is the plain NLLvMF (lambda1 0, lambda2 1) per token; it includes the "
                        "constant -log C_m(0) = %.2f nats at m = %d (a uniform prediction scores it)", constant, m)

    def in_cosine_warmup(self, model) -> bool:
        if self.cosine_warmup_updates == 0 or not model.training:
            return False
        get_num_updates = getattr(model, "get_num_updates", None)
        if get_num_updates is None:
            raise InputError(
                "--vmf-cosine-warmup-updates needs a model that tracks its update count "
                "(the fairseq_vmf continuous_* architectures do)"
            )
        return get_num_updates() < self.cosine_warmup_updates

    def extra_statistics(self, pred, target):
        # the plain NLLvMF, comparable across lambdas (and logged during cosine warm-up too)
        return {"nll_vmf": vmf_nll(pred, target, 0.0, 1.0, self.approximate)}

    def token_losses(self, pred, target, target_index, table, model):
        losses = self.likelihood_losses(pred, target, model)
        if self.table_nll_weight > 0:
            losses = losses + self.table_nll_weight * self.renormalised_losses(pred, target_index, table)
        return losses

    def likelihood_losses(self, pred, target, model):
        if self.in_cosine_warmup(model):
            return cosine_loss(pred, target)
        if self.released_form:
            return vmf_nll_released(pred, target, self.released_margin)
        if self.approximate and pred.size(-1) < 3:
            raise InputError("--vmf-normaliser approximate needs an output dimension m >= 3")
        return vmf_nll(pred, target, self.lambda1, self.lambda2, self.approximate)

    def renormalised_losses(self, pred, target_index, table):
        """table_nll per position (B, T); padding positions get a finite value (masked later)."""
        real_targets = target_index[self.target_mask(target_index)]
        if self.all_table_candidates:
            allowed = (~self._banned_rows(table)).nonzero().squeeze(1)
            real_targets = torch.cat([allowed, real_targets])
        candidates = torch.unique(real_targets)  # sorted
        if candidates.numel() == 0:
            return pred.new_zeros(target_index.shape, dtype=torch.float32)
        flat = table_nll(pred.reshape(-1, pred.size(-1)), target_index.reshape(-1), table, candidates,
                         self.table_label_smoothing)
        return flat.view(target_index.shape)
