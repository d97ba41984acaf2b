"""``translation_vmf``: translation with continuous outputs.

fairseq's TranslationTask plus the fixed target-embedding table: the task loads it
(``--target-embeddings``), checks that row i belongs to target-dictionary symbol i, and
hands it to the model, which keeps it as a buffer so that checkpoints decode without
the file. Validation works as for softmax models: the criteria log nearest-neighbour
accuracy (``nn_acc``) and ``--eval-bleu`` decodes the validation set.
"""

import logging
from dataclasses import dataclass, field
from typing import Optional

import torch

from fairseq.tasks import register_task
from fairseq.tasks.translation import TranslationConfig, TranslationTask

from ..embeddings.target_table import TargetEmbeddingTable
from ..errors import InputError
from ..models.continuous_output_model import ContinuousOutputModelMixin

logger = logging.getLogger(__name__)


@dataclass
class TranslationVmfConfig(TranslationConfig):
    target_embeddings: Optional[str] = field(
        default=None,
        metadata={"help": "target embedding table (.npz from fairseq-vmf-embed) aligned with the "
                          "target dictionary; needed to train, optional when decoding a "
                          "checkpoint (which carries its table)"},
    )


@register_task("translation_vmf", dataclass=TranslationVmfConfig)
class TranslationVmfTask(TranslationTask):
    """Translation whose decoder predicts target-embedding vectors (Kumar & Tsvetkov 2019)."""

    def __init__(self, cfg: TranslationVmfConfig, src_dict, tgt_dict):
        super().__init__(cfg, src_dict, tgt_dict)
        self.target_embeddings = None
        if cfg.target_embeddings:
            where = f"--target-embeddings {cfg.target_embeddings}"
            try:
                table = TargetEmbeddingTable.load(cfg.target_embeddings)
            except InputError as err:
                raise InputError(f"{where}: {err}") from None
            table.check_matches(tgt_dict.symbols, where)
            self.target_embeddings = torch.from_numpy(table.vectors)
            logger.info("target embedding table %s: %d x %d", cfg.target_embeddings, *table.vectors.shape)

    def build_model(self, cfg, from_checkpoint=False):
        model = super().build_model(cfg, from_checkpoint)
        if not isinstance(model, ContinuousOutputModelMixin):
            raise InputError(
                f"--task translation_vmf needs a continuous-output architecture "
                f"(continuous_transformer*, continuous_lstm*), got {type(model).__name__}"
            )
        return model
