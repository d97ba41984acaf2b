"""What every continuous-output criterion shares: the fairseq criterion contract.

A continuous-output model's decoder returns vectors (B, T, m) instead of logits, and
exposes the frozen target-embedding table (V, m) through ``get_target_embeddings()``
(row i = unit vector of target-dictionary symbol i). A criterion subclass only says how
to score one predicted vector against its target row (``token_losses``); this base
class handles padding, reduction, the logged statistics and their aggregation.

Logged (all as sums, so they add up across workers and across split batches):

* ``loss``: the summed loss over ``sample_size`` (tokens, or sentences with
  ``--sentence-avg``), in nats. It is not a cross-entropy: the vMF loss can be
  negative, so no perplexity is derived. Select checkpoints by BLEU or ``nn_acc``.
* ``cos``: mean cosine between prediction and target embedding;
* ``kappa``: mean norm of the prediction (the vMF concentration);
* ``nll_vmf`` (``vmf`` criterion): the plain NLLvMF per token (lambda1 = 0, lambda2 = 1)
  whatever the training lambdas, so runs with different lambdas compare; it includes
  the constant -log C_m(0) (the log of the sphere's area: -427.6 nats at m = 300);
* ``nn_acc`` (validation only): % of tokens whose nearest table row (inner product,
  padding, ``<s>`` and filler symbols excluded) is the target, found by an exact chunked scan.
"""

from dataclasses import dataclass, field

import torch
from omegaconf import II

from fairseq.criterions import FairseqCriterion
from fairseq.dataclass import FairseqDataclass
from fairseq.logging import metrics

from ..embeddings.target_table import unit_row_problem
from ..errors import InputError
from ..maths.log_cmk import check_dimension
from ..maths.losses import autocast_off, full_precision, norms_and_cosines
from ..maths.vocabulary_scan import DEFAULT_CHUNK_SIZE, best_rows
from ..modules.continuous_output_head import never_predicted_indices, table_key, table_tolerance


@dataclass
class ContinuousOutputCriterionConfig(FairseqDataclass):
    sentence_avg: bool = II("optimization.sentence_avg")
    neighbour_chunk_size: int = field(
        default=DEFAULT_CHUNK_SIZE,
        metadata={"help": "table rows scored at once when searching nearest neighbours "
                          "(validation accuracy, max-margin negatives); bounds memory to "
                          "tokens x this"},
    )
    ignore_unk_targets: bool = field(
        default=False,
        metadata={"help": "give positions whose target is <unk> (words cut from a capped target "
                          "vocabulary) no loss and no statistics, so the model is never trained "
                          "towards the <unk> row; decode with a table extended by the cut words "
                          "(fairseq-vmf-embed --extend) and --unkpen to write them"},
    )


def check_target_table(table: torch.Tensor, where: str, tolerance: float = 1e-3) -> None:
    """Fail with a clear message unless ``table`` is (V, m), m >= 2, with finite unit rows."""
    if table.dim() != 2:
        raise InputError(f"{where}: target embedding table must be 2-D (V, m), got shape {tuple(table.shape)}")
    try:
        check_dimension(int(table.size(1)), where)
    except ValueError as err:
        raise InputError(str(err)) from None
    # once per table (the criterion caches the check), so the host copy is cheap enough
    problem = unit_row_problem(table.detach().float().cpu().numpy(), tolerance)
    if problem:
        raise InputError(f"{where}: target embedding {problem}")


class ContinuousOutputCriterion(FairseqCriterion):
    """Base class; subclasses implement ``token_losses``."""

    def __init__(self, task, sentence_avg, neighbour_chunk_size=DEFAULT_CHUNK_SIZE, ignore_unk_targets=False):
        super().__init__(task)
        if neighbour_chunk_size < 1:
            raise InputError(f"--neighbour-chunk-size must be >= 1, got {neighbour_chunk_size}")
        self.sentence_avg = sentence_avg
        self.neighbour_chunk_size = neighbour_chunk_size
        dictionary = task.target_dictionary
        if ignore_unk_targets and dictionary is None:
            raise InputError("--ignore-unk-targets needs a task with a target dictionary")
        self.ignored_target = dictionary.unk() if ignore_unk_targets else None
        self.never_predicted = never_predicted_indices(dictionary) if dictionary is not None else ()
        self._checked_tables = set()
        # A task that loads the table (translation_vmf) exposes it: check it now,
        # before training starts, rather than at the first batch.
        table = getattr(task, "target_embeddings", None)
        if table is not None:
            self._check_table(torch.as_tensor(table), "target embedding table of the task")

    # -- to implement -------------------------------------------------------------
    def token_losses(self, pred, target, target_index, table, model):
        """Loss per position (B, T) of ``pred`` (B, T, m) against ``target`` rows (B, T, m)."""
        raise NotImplementedError

    def extra_statistics(self, pred, target):
        """More per-position values (B, T) to log as sums over real tokens, by name."""
        return {}

    # -- contract -------------------------------------------------------------------
    def _check_table(self, table, where):
        key = table_key(table)
        if key in self._checked_tables:
            return
        check_target_table(table, where, table_tolerance(table.dtype))
        self._checked_tables.add(key)

    def target_mask(self, target):
        """Positions that are trained and counted: not padding (nor <unk> with --ignore-unk-targets)."""
        mask = target.ne(self.padding_idx)
        if self.ignored_target is not None:
            mask &= target.ne(self.ignored_target)
        return mask

    def _banned_rows(self, table):
        banned = torch.zeros(table.size(0), dtype=torch.bool, device=table.device)
        for index in self.never_predicted:
            if 0 <= index < table.size(0):
                banned[index] = True
        return banned

    def forward(self, model, sample, reduce=True):
        net_output = model(**sample["net_input"])
        pred = net_output[0]
        table = model.get_target_embeddings()
        self._check_table(table, f"criterion {type(self).__name__}")
        if pred.size(-1) != table.size(1):
            raise InputError(
                f"the model outputs {pred.size(-1)}-d vectors but the target embedding table "
                f"is {table.size(1)}-d: build the model with the table's dimension"
            )
        target = sample["target"]
        mask = self.target_mask(target)
        target_vectors = table[target]
        losses = self.token_losses(pred, target_vectors, target, table, model)
        zero = losses.new_zeros(())
        # reduce=False: one loss per target position (B * T,), padding at 0, as fairseq's criteria
        token_losses = torch.where(mask, losses, zero)
        loss = token_losses.sum()

        with torch.no_grad(), autocast_off(pred.device):
            full_pred, full_target = full_precision(pred.detach(), target_vectors)
            kappa, _, cosine = norms_and_cosines(full_pred, full_target)
            kappa_sum = torch.where(mask, kappa, zero).sum()
            cos_sum = torch.where(mask, cosine, zero).sum()
            extra = {f"{name}_sum": torch.where(mask, values, zero).sum()
                     for name, values in self.extra_statistics(full_pred, full_target).items()}

        sample_size = target.size(0) if self.sentence_avg else sample["ntokens"]
        logging_output = {
            "loss": loss.data,
            "ntokens": sample["ntokens"],
            "nsentences": target.size(0),
            "sample_size": sample_size,
            "cos_sum": cos_sum,
            "kappa_sum": kappa_sum,
            **extra,
        }
        if not model.training:
            with torch.no_grad(), autocast_off(pred.device):
                flat = full_pred.reshape(-1, full_pred.size(-1))
                _, nearest = best_rows(
                    flat, table.to(flat.dtype), self._banned_rows(table), None, self.neighbour_chunk_size
                )
                hits = nearest.view_as(target).eq(target) & mask
            logging_output["nn_correct"] = hits.sum()
            logging_output["nn_count"] = mask.sum()
        return (loss if reduce else token_losses.view(-1)), sample_size, logging_output

    @classmethod
    def reduce_metrics(cls, logging_outputs) -> None:
        def total(key):
            return float(sum(log.get(key, 0) for log in logging_outputs))

        loss_sum = total("loss")
        ntokens = total("ntokens")
        sample_size = total("sample_size")
        metrics.log_scalar("loss", loss_sum / max(sample_size, 1.0), sample_size, round=4)
        metrics.log_scalar("cos", total("cos_sum") / max(ntokens, 1.0), ntokens, round=4)
        metrics.log_scalar("kappa", total("kappa_sum") / max(ntokens, 1.0), ntokens, round=3)
        if any("nll_vmf_sum" in log for log in logging_outputs):
            metrics.log_scalar("nll_vmf", total("nll_vmf_sum") / max(ntokens, 1.0), ntokens, round=4)
        nn_count = total("nn_count")
        if nn_count > 0:
            metrics.log_scalar("_nn_correct", total("nn_correct"))
            metrics.log_scalar("_nn_count", nn_count)
            metrics.log_derived(
                "nn_acc",
                lambda meters: round(100.0 * meters["_nn_correct"].sum / meters["_nn_count"].sum, 3)
                if meters["_nn_count"].sum > 0 else float("nan"),
            )

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True
