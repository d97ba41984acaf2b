"""``translation_vmf``: translation with continuous outputs.

fairseq's TranslationTask plus the fixed target-embedding table: the task loads it
(``--target-embeddings``), checks that row i belongs to target-dictionary symbol i, and
hands it to the model, which keeps it as a buffer so that checkpoints decode without
the file. Validation works as for softmax models: the criteria log nearest-neighbour
accuracy (``nn_acc``) and ``--eval-bleu`` decodes the validation set.
"""

import copy
import logging
import math
from dataclasses import dataclass, field
from typing import Optional

import torch

from fairseq.dataclass import ChoiceEnum
from fairseq.tasks import register_task
from fairseq.tasks.translation import TranslationConfig, TranslationTask

from ..embeddings.target_table import TargetEmbeddingTable
from ..errors import InputError
from ..generation import ContinuousSequenceGenerator
from ..generation.candidate_ensemble import SCORES
from ..search import BACKENDS
from ..models.continuous_output_model import ContinuousOutputModelMixin
from ..modules.continuous_output_head import same_table_tolerance

logger = logging.getLogger(__name__)


KNN_BACKENDS = ChoiceEnum(list(BACKENDS))
KNN_SCORES = ChoiceEnum(list(SCORES))


@dataclass
class TranslationVmfConfig(TranslationConfig):
    target_embeddings: Optional[str] = field(
        default=None,
        metadata={"help": "target embedding table (.npz from fairseq-vmf-embed) aligned with the "
                          "target dictionary; needed to train, optional when decoding a "
                          "checkpoint (which carries its table)"},
    )
    knn_k: int = field(
        default=0,
        metadata={"help": "decoding: candidate words per hypothesis from the kNN search; 0 = 2 x beam "
                          "(enough for beam search to equal the dense search)"},
    )
    knn_backend: KNN_BACKENDS = field(
        default="auto",
        metadata={"help": "decoding: kNN search backend: torch (exact matrix products), faiss_flat "
                          "(exact, GPU when faiss-gpu and CUDA are there), faiss_hnsw (approximate), "
                          "auto (by device and table size)"},
    )
    knn_score: KNN_SCORES = field(
        default="vmf",
        metadata={"help": "decoding: candidate score: vmf (log-density renormalised over the whole "
                          "vocabulary), vmf_topk (renormalised over the candidates), cosine"},
    )
    knn_kappa_scale: float = field(
        default=1.0,
        metadata={"help": "decoding: multiply every predicted concentration kappa by this before "
                          "scoring (a sharper vMF for > 1, a flatter one for < 1, still renormalised "
                          "over the vocabulary; same as dividing --temperature by it). It leaves "
                          "greedy decoding unchanged and changes what beam search gains: 1 (the "
                          "model's own density) was at or near the best on Multi30k val for the "
                          "converged models, 1.5 for the early 15-minute ones (see README). Being a "
                          "temperature, it also scales --sampling"},
    )
    remove_repeated_tokens: bool = field(
        default=False,
        metadata={"help": "decoding: drop immediately repeated tokens from hypotheses (the paper's "
                          "post-processing)"},
    )
    dense_generation: bool = field(
        default=False,
        metadata={"help": "decoding: use fairseq's stock generator on the dense renormalised "
                          "distribution (memory batch x beam x V) instead of the kNN generator"},
    )
    decode_target_embeddings: Optional[str] = field(
        default=None,
        metadata={"help": "decode with a larger table: its first rows must be the training "
                          "table (same symbols, same vectors); its extra rows become target "
                          "words the model can output although it never saw them in training"},
    )


def with_temperature(args, temperature: float):
    """A copy of the generation options (Namespace or omegaconf) with another temperature."""
    args = copy.deepcopy(args)
    args.temperature = temperature
    return args


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

    def build_generator(self, models, args, seq_gen_cls=None, extra_gen_cls_kwargs=None, **kwargs):
        scale = float(self.cfg.knn_kappa_scale)
        if not (math.isfinite(scale) and scale > 0):
            raise InputError(f"--knn-kappa-scale must be a positive number, got {self.cfg.knn_kappa_scale}")
        if scale != 1.0:
            # kappa * mu . e is linear in the decoder's output vector, so scaling kappa is
            # fairseq's own temperature (which both generators apply to the output) divided by it.
            args = with_temperature(args, getattr(args, "temperature", 1.0) / scale)
        if self.cfg.decode_target_embeddings:
            self.extend_target_vocabulary(models)
        if seq_gen_cls is None and not self.cfg.dense_generation:
            seq_gen_cls = ContinuousSequenceGenerator
            extra_gen_cls_kwargs = dict(extra_gen_cls_kwargs or {})
            extra_gen_cls_kwargs.update(
                knn_k=self.cfg.knn_k,
                knn_backend=str(self.cfg.knn_backend),
                knn_score=str(self.cfg.knn_score),
                remove_repeated_tokens=self.cfg.remove_repeated_tokens,
            )
        return super().build_generator(
            models, args, seq_gen_cls=seq_gen_cls, extra_gen_cls_kwargs=extra_gen_cls_kwargs, **kwargs
        )

    def extend_target_vocabulary(self, models) -> None:
        """Grow the target dictionary (in place, so fairseq's CLIs see it) and every
        model's table with the extra rows of ``--decode-target-embeddings``."""
        path = self.cfg.decode_target_embeddings
        where = f"--decode-target-embeddings {path}"
        try:
            table = TargetEmbeddingTable.load(path)
        except InputError as err:
            raise InputError(f"{where}: {err}") from None
        dictionary = self.tgt_dict
        known = len(dictionary)
        if getattr(self, "_extended_with", None) == path:
            return
        if table.symbols[:known] != dictionary.symbols:
            TargetEmbeddingTable(table.symbols[:known], table.vectors[:known]).check_matches(dictionary.symbols, where)
        extra_symbols = table.symbols[known:]
        clashes = [s for s in extra_symbols if s in dictionary.indices]
        if clashes:
            raise InputError(f"{where}: extra rows repeat dictionary symbols, e.g. {clashes[0]!r}")
        vectors = torch.from_numpy(table.vectors)
        for model in models:
            trained = model.get_target_embeddings()
            tolerance = same_table_tolerance(trained.dtype)
            trained = trained.float().cpu()
            if trained.shape[1] != vectors.shape[1] or not torch.allclose(trained, vectors[:known], atol=tolerance):
                raise InputError(
                    f"{where}: its first {known} rows differ from the table in the checkpoint "
                    f"(build it from the same vectors, dimension and centring)"
                )
        for symbol in extra_symbols:
            dictionary.add_symbol(symbol)
        for model in models:
            model.extend_target_embeddings(vectors[known:], dictionary.unk())
        self._extended_with = path
        logger.info("decoding with %d target words (%d added by %s)", len(dictionary), len(extra_symbols), path)

    def build_model(self, cfg, from_checkpoint=False):
        if self.cfg.decode_target_embeddings and self.cfg.eval_bleu:
            raise InputError("--decode-target-embeddings is for decoding a trained checkpoint, not with --eval-bleu")
        model = super().build_model(cfg, from_checkpoint)
        if not isinstance(model, ContinuousOutputModelMixin):
            raise InputError(
                f"--task translation_vmf needs a continuous-output architecture "
                f"(continuous_transformer*, continuous_lstm*), got {type(model).__name__}; "
                f"a softmax checkpoint decodes with --task translation"
            )
        return model
