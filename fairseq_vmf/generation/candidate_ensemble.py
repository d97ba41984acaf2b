"""The decoder step of continuous-output beam search: vectors -> k candidate words.

fairseq's SequenceGenerator asks its EnsembleModel for log-probabilities over the whole
vocabulary at each step. With continuous outputs that dense (batch x beam) x V tensor is
avoidable: ``CandidateEnsemble`` returns scores over a *compact vocabulary* of
``nspecial + k`` columns per hypothesis: columns 0..3 are the real ``<s>``, ``<pad>``,
``</s>``, ``<unk>`` (so every index the generator touches by name keeps its meaning) and
the remaining k columns are the hypothesis' k nearest target words, whose real ids are
kept in ``candidate_ids``. ``CompactBeamSearch`` maps the chosen columns back to real ids,
so the rest of fairseq's beam search runs unchanged. Memory per step is (batch x beam) x k.
"""

import math
from typing import Optional

import torch
from fairseq.sequence_generator import EnsembleModel

from ..maths.vocabulary_scan import log_partition
from ..modules.continuous_output_head import table_key
from ..search import build_candidate_search

SCORES = ("vmf", "vmf_topk", "cosine")


def repeated_ngram_bans(tokens: torch.Tensor, n: int) -> torch.Tensor:
    """(N, W) ids that would complete an n-gram already in ``tokens`` (N, t); -1 = none."""
    steps = tokens.size(1)
    if n < 1 or steps < n:
        return tokens.new_full((tokens.size(0), 0), -1)
    windows = tokens.unfold(1, n, 1)  # (N, t-n+1, n)
    if n == 1:
        return windows[:, :, 0]
    prefix = tokens[:, steps - (n - 1):]  # the last n-1 tokens
    match = (windows[:, :, : n - 1] == prefix.unsqueeze(1)).all(dim=-1)
    return torch.where(match, windows[:, :, n - 1], torch.full_like(windows[:, :, n - 1], -1))


class CandidateEnsemble(EnsembleModel):
    """EnsembleModel whose ``forward_decoder`` scores k nearest words per hypothesis.

    Args:
        models: one continuous-output model (ensembles fall back to dense scoring).
        tgt_dict: the target dictionary.
        k: candidates per hypothesis (>= 2 x beam keeps beam search exact).
        backend: kNN backend name (see ``fairseq_vmf.search``).
        score: 'vmf' (log-density renormalised over the whole vocabulary, default),
            'vmf_topk' (renormalised over the candidates only: no full pass), or
            'cosine' (cos - 1: not a probability, comparable across steps).
        no_repeat_ngram_size: block repeated n-grams (as --no-repeat-ngram-size).
    """

    def __init__(self, models, tgt_dict, k: int, backend: str = "auto", score: str = "vmf",
                 no_repeat_ngram_size: int = 0):
        super().__init__(models)
        if score not in SCORES:
            raise ValueError(f"--knn-score must be one of {', '.join(SCORES)}, got {score!r}")
        self.k = k
        self.backend = backend
        self.score = score
        self.no_repeat_ngram_size = no_repeat_ngram_size
        self.nspecial = tgt_dict.nspecial
        self.bos, self.pad, self.eos, self.unk = tgt_dict.bos(), tgt_dict.pad(), tgt_dict.eos(), tgt_dict.unk()
        if (self.bos, self.pad, self.eos, self.unk) != (0, 1, 2, 3):
            raise ValueError("the compact vocabulary needs fairseq's default special indices 0-3")
        self.compact = True
        self.candidate_ids: Optional[torch.Tensor] = None
        self._search = self._banned = None
        self._table_key = None

    def compact_size(self) -> int:
        return self.nspecial + self.k

    def _for_table(self, table):
        """(kNN search, never-predicted row mask) for ``table``: built once per table and
        device, not per batch or step."""
        key = table_key(table)
        if key != self._table_key:
            never = self.single_model.decoder.output_projection.never_predicted
            self._search = build_candidate_search(table, sorted(set(never) | set(range(self.nspecial))), self.backend,
                                                  full_pass=self.score == "vmf")
            self._banned = torch.zeros(table.size(0), dtype=torch.bool, device=table.device)
            self._banned[list(never)] = True
            self._table_key = key
        return self._search, self._banned

    def forward_decoder(self, tokens, encoder_outs, incremental_states, temperature: float = 1.0):
        if not self.compact:
            return super().forward_decoder(tokens, encoder_outs, incremental_states, temperature)
        model = self.single_model
        decoder_out = model.decoder.forward(
            tokens,
            encoder_out=encoder_outs[0] if self.has_encoder() else None,
            incremental_state=incremental_states[0] if self.has_incremental_states() else None,
        )
        attn = None
        if len(decoder_out) > 1 and decoder_out[1] is not None:
            holder = decoder_out[1] if torch.is_tensor(decoder_out[1]) else decoder_out[1].get("attn")
            if holder is not None and not torch.is_tensor(holder):
                holder = holder[0]
            if holder is not None:
                attn = holder[:, -1, :]
        vectors = decoder_out[0][:, -1, :].float() / temperature  # (N, m)
        head = model.decoder.output_projection
        table = head.target_embeddings
        search, banned = self._for_table(table)
        log_normaliser = None
        if self.score == "vmf" and hasattr(search, "search_with_log_partition"):
            # exact search: candidates and the vMF normaliser from one pass over the table
            word_scores, word_ids, log_normaliser = search.search_with_log_partition(vectors, self.k)
        else:
            word_scores, word_ids = search.search(vectors, self.k)
        missing = self.k - word_scores.size(1)
        if missing > 0:  # fewer searchable words than k: keep the compact width fixed
            word_scores = torch.cat([word_scores, word_scores.new_full((len(word_scores), missing), -math.inf)], dim=1)
            word_ids = torch.cat([word_ids, word_ids.new_full((len(word_ids), missing), self.pad)], dim=1)
        special_scores = vectors @ table[: self.nspecial].float().t()  # (N, 4)
        logits = torch.cat([special_scores, word_scores.float()], dim=1)
        ids = torch.cat([torch.arange(self.nspecial, device=word_ids.device).expand(len(word_ids), -1), word_ids], dim=1)
        logits[:, self.bos] = -math.inf
        logits[:, self.pad] = -math.inf
        if self.score == "vmf":
            if log_normaliser is None:  # FAISS backends: a separate chunked pass
                log_normaliser = log_partition(vectors, table, banned)
            else:  # the search skipped the special rows: add </s> and <unk> (bos, pad are -inf)
                log_normaliser = torch.logaddexp(log_normaliser, torch.logsumexp(logits[:, :self.nspecial], dim=1))
            lprobs = logits - log_normaliser.unsqueeze(1)
        elif self.score == "vmf_topk":
            lprobs = torch.log_softmax(logits, dim=1)
        else:
            norms = vectors.norm(dim=1, keepdim=True).clamp_min(1e-6)
            lprobs = logits / norms - 1.0
        if self.no_repeat_ngram_size > 0:
            step = tokens.size(1) - 1
            if step + 2 - self.no_repeat_ngram_size >= 0:
                bans = repeated_ngram_bans(tokens, self.no_repeat_ngram_size)
                hit = (ids.unsqueeze(-1) == bans.unsqueeze(1)).any(dim=-1)
                lprobs = lprobs.masked_fill(hit, -math.inf)
        self.candidate_ids = ids
        return lprobs, attn
