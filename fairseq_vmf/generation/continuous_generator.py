"""Beam search for continuous-output models, built on fairseq's SequenceGenerator.

Nothing of fairseq's search is copied: the generator swaps in a ``CandidateEnsemble``
(k nearest words per hypothesis, see there) and a ``CompactBeamSearch`` that maps chosen
columns back to word ids, then runs the stock ``_generate``. Length penalty, n-best,
min/max length, unk penalty, attention for ``--replace-unk`` work as usual; no-repeat
n-gram blocking is applied on the candidates. Prefix tokens, constraints, LM fusion,
``--tokens-to-suppress``, ensembles and other search strategies use the dense path
(log-probabilities over the whole vocabulary), which gives the same results with more memory.
"""

import torch
from fairseq import search
from fairseq.sequence_generator import SequenceGenerator

from .candidate_ensemble import CandidateEnsemble


class CompactBeamSearch(search.BeamSearch):
    """fairseq's BeamSearch whose returned column indices become real word ids."""

    def __init__(self, tgt_dict, ensemble: CandidateEnsemble):
        super().__init__(tgt_dict)
        self.ensemble = ensemble

    def step(self, step, lprobs, scores, prev_output_tokens=None, original_batch_idxs=None):
        scores_buf, indices_buf, beams_buf = super().step(step, lprobs, scores, prev_output_tokens, original_batch_idxs)
        if self.ensemble.compact:
            bsz, beam = lprobs.size(0), lprobs.size(1)
            rows = beams_buf + torch.arange(bsz, device=beams_buf.device).unsqueeze(1) * beam
            indices_buf = self.ensemble.candidate_ids[rows, indices_buf]
        return scores_buf, indices_buf, beams_buf


def remove_repeated_tokens(hypothesis: dict) -> dict:
    """Drop tokens equal to the one before them (the paper's post-processing).

    ``score`` is left as computed for the hypothesis before the removal (it decided the
    ranking); ``positional_scores`` keeps the entries of the tokens that remain.
    """
    tokens = hypothesis["tokens"]
    if tokens.numel() < 2:
        return hypothesis
    keep = torch.ones_like(tokens, dtype=torch.bool)
    keep[1:] = tokens[1:] != tokens[:-1]
    hypothesis["tokens"] = tokens[keep]
    hypothesis["positional_scores"] = hypothesis["positional_scores"][keep]
    if torch.is_tensor(hypothesis.get("attention")) and hypothesis["attention"].numel():
        hypothesis["attention"] = hypothesis["attention"][:, keep]
    if torch.is_tensor(hypothesis.get("alignment")) and hypothesis["alignment"].numel() and hypothesis["alignment"].dim() == 1:
        hypothesis["alignment"] = hypothesis["alignment"][keep]
    return hypothesis


class ContinuousSequenceGenerator(SequenceGenerator):
    """SequenceGenerator over k nearest target embeddings per hypothesis.

    Args (beyond SequenceGenerator's):
        knn_k: candidates per hypothesis, at least 2 x beam (the default, 0, means exactly
            that: enough for beam search to equal the dense search, which keeps the
            2 x beam best of beam x V).
        knn_backend: 'auto', 'torch', 'faiss_flat', 'faiss_hnsw'.
        knn_score: 'vmf', 'vmf_topk' or 'cosine' (see CandidateEnsemble).
        remove_repeated_tokens: drop immediately repeated tokens from the output.
    """

    def __init__(self, models, tgt_dict, beam_size=1, knn_k=0, knn_backend="auto", knn_score="vmf",
                 remove_repeated_tokens=False, search_strategy=None, no_repeat_ngram_size=0, **kwargs):
        # fairseq's beam search keeps 2 x beam candidates per sentence: fewer would break it
        k = max(knn_k, 2 * beam_size, 2)
        ensemble = CandidateEnsemble(models, tgt_dict, k, knn_backend, knn_score, no_repeat_ngram_size)
        plain_beam = search_strategy is None or type(search_strategy) is search.BeamSearch
        strategy = CompactBeamSearch(tgt_dict, ensemble) if plain_beam else search_strategy
        super().__init__(ensemble, tgt_dict, beam_size=beam_size, search_strategy=strategy,
                         no_repeat_ngram_size=no_repeat_ngram_size, **kwargs)
        self.compact_ok = plain_beam and len(models) == 1
        self.full_vocab_size = self.vocab_size
        self.dense_ngram_blocker = self.repeat_ngram_blocker
        self.remove_repeats = remove_repeated_tokens

    def _generate(self, sample, prefix_tokens=None, constraints=None, bos_token=None):
        compact = (
            self.compact_ok and prefix_tokens is None and constraints is None
            and self.lm_model is None and self.token_indices_to_suppress is None
        )
        self.model.compact = compact
        self.vocab_size = self.model.compact_size() if compact else self.full_vocab_size
        # in compact mode the ensemble blocks repeated n-grams on real ids itself
        self.repeat_ngram_blocker = None if compact else self.dense_ngram_blocker
        try:
            finalized = super()._generate(sample, prefix_tokens=prefix_tokens, constraints=constraints, bos_token=bos_token)
        finally:
            self.vocab_size = self.full_vocab_size
            self.repeat_ngram_blocker = self.dense_ngram_blocker
            self.model.compact = True
        if self.remove_repeats:
            finalized = [[remove_repeated_tokens(h) for h in hypotheses] for hypotheses in finalized]
        return finalized
