"""The systems and the synthetic batches of scripts/benchmark_training.py: which model and
criterion each system is, built with fairseq's registry on each body and vocabulary size,
and batches with Multi30k's length distribution and Zipf-distributed token ids."""

import argparse
from pathlib import Path

SYSTEMS = ("softmax", "adaptive", "plif", "augmented", "vmf", "vmf_approx", "cosine")
# the comparison; plif and augmented (softmax improvements) join with --full or --systems
DEFAULT_SYSTEMS = ("softmax", "adaptive", "vmf", "vmf_approx", "cosine")
PLIF_ARCH = {"transformer": "plif_transformer", "lstm": "plif_lstm"}
CONTINUOUS = ("vmf", "vmf_approx", "cosine")
BODIES = ("transformer_small", "lstm_small", "lstm")
TABLE_DIM = 300
SRC_VOCAB = 8000

# body -> (softmax arch, continuous arch, dimensions). The softmax LSTM ties its output to
# the decoder inputs, so its decoder projects hidden states to the embedding dimension;
# the continuous LSTM gets that same projection, so both share one body and differ only
# in the output layer (V x d_emb against d_emb x 300).
BODY_ARGS = {  # the sizes come from the one definition of each body in fairseq_vmf.models
    "transformer_small": ("transformer", "continuous_transformer_small", "SMALL_TRANSFORMER"),
    "lstm_small": ("lstm", "continuous_lstm_small", "SMALL_LSTM"),
    "lstm": ("lstm", "continuous_lstm", "PAPER_LSTM"),  # the paper's body
}


def body_sizes(body: str) -> dict:
    from fairseq_vmf.models import lstm_bodies, transformer_bodies

    name = BODY_ARGS[body][2]
    return dict(getattr(transformer_bodies, name, None) or getattr(lstm_bodies, name))


def adaptive_cutoffs(vocab: int) -> str:
    """Frequency-cluster boundaries: a 2k-word head, tails at 10k and 50k words where the
    vocabulary is larger (fairseq's examples use 20k/60k for 260k-word vocabularies); a
    quarter of the words for tiny test vocabularies."""
    cuts = [c for c in (2000, 10000, 50000) if c < vocab - 1000] or [vocab // 4]
    return ",".join(map(str, cuts))


def multi30k_lengths(data: Path, src: str, tgt: str):
    import gzip

    def lengths(lang):
        with gzip.open(data / f"train.{lang}.gz", "rt", encoding="utf-8") as f:
            return [len(line.split()) for line in f]

    pairs = list(zip(lengths(src), lengths(tgt)))
    if not pairs:
        raise SystemExit(f"benchmark_training.py: no sentences in {data}/train.{src}.gz")
    return pairs


def zipf_ids(generator, count, vocab, nspecial):
    import torch

    ranks = torch.arange(1, vocab - nspecial + 1, dtype=torch.float64)
    probs = 1.0 / ranks
    return torch.multinomial(probs / probs.sum(), count, replacement=True, generator=generator) + nspecial


def make_batches(pairs, src_dict, tgt_dict, max_tokens, count, seed):
    """fairseq-like batches: pairs sorted by length, packed while max_len x size <= max_tokens."""
    import torch

    g = torch.Generator().manual_seed(seed)
    chosen = torch.randperm(len(pairs), generator=g)[:20000].tolist()
    sample = sorted((pairs[i] for i in chosen), key=lambda p: (p[1], p[0]))
    groups, current = [], []
    for pair in sample:
        longest = max([p[1] + 1 for p in current + [pair]] + [p[0] + 1 for p in current + [pair]])
        if current and longest * (len(current) + 1) > max_tokens:
            groups.append(current)
            current = []
        current.append(pair)
    groups.append(current)
    picks = torch.randperm(len(groups), generator=g)[:count].tolist()
    batches = []
    for index in picks:
        group = sorted(groups[index], key=lambda p: -p[0])  # fairseq's collater: longest source first
        src_len = max(p[0] for p in group) + 1
        tgt_len = max(p[1] for p in group) + 1
        src = torch.full((len(group), src_len), src_dict.pad())
        target = torch.full((len(group), tgt_len), tgt_dict.pad())
        for row, (s, t) in enumerate(group):
            src[row, src_len - s - 1:-1] = zipf_ids(g, s, len(src_dict), src_dict.nspecial)  # left-padded
            src[row, -1] = src_dict.eos()
            target[row, :t] = zipf_ids(g, t, len(tgt_dict), tgt_dict.nspecial)
            target[row, t] = tgt_dict.eos()
        prev = torch.cat([torch.full((len(group), 1), tgt_dict.eos()), target[:, :-1]], dim=1)
        batches.append({
            "net_input": {"src_tokens": src, "src_lengths": torch.tensor([p[0] + 1 for p in group]),
                          "prev_output_tokens": prev},
            "target": target, "ntokens": int(target.ne(tgt_dict.pad()).sum()), "id": torch.arange(len(group)),
        })
    return batches


def to_device(batch, device):
    import torch

    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch.to(device) if torch.is_tensor(batch) else batch


def decode_batches(pairs, dicts, count, device, batch_size=64):
    import torch

    src_dict, _ = dicts
    g = torch.Generator().manual_seed(2)
    picks = torch.randperm(len(pairs), generator=g)[:count].tolist()
    batches = []
    for begin in range(0, len(picks), batch_size):
        group = sorted((pairs[i][0] for i in picks[begin:begin + batch_size]), reverse=True)
        width = max(group) + 1
        src = torch.full((len(group), width), src_dict.pad())
        for row, length in enumerate(group):
            src[row, width - length - 1:-1] = zipf_ids(g, length, len(src_dict), src_dict.nspecial)
            src[row, -1] = src_dict.eos()
        batches.append(to_device({"net_input": {"src_tokens": src,
                                                "src_lengths": torch.tensor([l + 1 for l in group])},
                                  "id": torch.arange(len(group))}, device))
    return batches


def build(system, body, vocab, device):
    """(model, criterion, task) for one configuration."""
    from types import SimpleNamespace

    import torch
    from fairseq.criterions.adaptive_loss import AdaptiveLoss
    from fairseq.criterions.label_smoothed_cross_entropy import LabelSmoothedCrossEntropyCriterion
    from fairseq.data import Dictionary
    from fairseq.models import ARCH_MODEL_REGISTRY

    from fairseq_vmf.criterions.cosine import CosineOutputCriterion
    from fairseq_vmf.criterions.tied_augmented_ce import TiedAugmentedCrossEntropyCriterion
    from fairseq_vmf.criterions.vmf import VmfCriterion

    src_dict, tgt_dict = Dictionary(), Dictionary()
    for i in range(SRC_VOCAB - src_dict.nspecial):
        src_dict.add_symbol(f"s{i}")
    for i in range(vocab - tgt_dict.nspecial):
        tgt_dict.add_symbol(f"w{i}")
    softmax_arch, continuous_arch, _ = BODY_ARGS[body]
    dims = body_sizes(body)
    args = argparse.Namespace(**dims)
    task = SimpleNamespace(source_dictionary=src_dict, target_dictionary=tgt_dict, target_embeddings=None)
    if system in CONTINUOUS:
        g = torch.Generator().manual_seed(0)
        table = torch.nn.functional.normalize(torch.randn(len(tgt_dict), TABLE_DIM, generator=g), dim=1)
        task.target_embeddings = table
        args.arch, args.tie_target_embeddings, args.criterion = continuous_arch, True, "vmf"
        if body.startswith("lstm"):
            args.decoder_out_embed_dim = dims["decoder_embed_dim"]
    else:
        args.arch = PLIF_ARCH[softmax_arch] if system == "plif" else softmax_arch
        args.criterion = "adaptive_loss" if system == "adaptive" else "label_smoothed_cross_entropy"
        if body.startswith("lstm"):
            args.decoder_out_embed_dim = dims["decoder_embed_dim"]
        if system == "adaptive":
            args.adaptive_softmax_cutoff = adaptive_cutoffs(vocab)
            args.adaptive_softmax_dropout = 0.0
        else:
            args.share_decoder_input_output_embed = True
            if body.startswith("lstm"):
                args.adaptive_softmax_cutoff = None
    model = ARCH_MODEL_REGISTRY[args.arch].build_model(args, task).to(device)
    if system in ("softmax", "plif"):
        criterion = LabelSmoothedCrossEntropyCriterion(task, False, 0.1)
    elif system == "augmented":
        criterion = TiedAugmentedCrossEntropyCriterion(task, False, 0.1)
    elif system == "adaptive":
        criterion = AdaptiveLoss(task, False)
    elif system == "cosine":
        criterion = CosineOutputCriterion(task, False)
    else:
        criterion = VmfCriterion(task, False, 8192, 0.02, 0.1, "exact" if system == "vmf" else "approximate", 0,
                                 "paper", 0.2)
    return model, criterion, task, (src_dict, tgt_dict)


def output_layer_parameters(model, system):
    decoder = model.decoder
    if system in CONTINUOUS:
        module = decoder.output_projection
    elif system == "adaptive":
        module = decoder.adaptive_softmax
    else:
        weight = decoder.embed_tokens.weight  # tied: the output layer is the shared V x d matrix
        plif = getattr(decoder, "plif", None)
        return weight.numel() + (sum(p.numel() for p in plif.parameters()) if plif is not None else 0)
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
