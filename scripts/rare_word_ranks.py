#!/usr/bin/env python
"""Can a continuous model point at words it was never trained towards? Teacher-forced ranks.

Feeds each test reference to the model (decoder inputs as in training: words outside the
capped dictionary are ``<unk>``) and, at every position whose reference word has a row in
the decoding table, ranks that row among all the table's rows by cosine with the predicted
vector (the nearest-row order the kNN decoder searches in). Reported separately for words
of the capped training dictionary and for the extra rows (words cut from it): top-1, top-10
and the median rank. Positions whose reference word has no row are skipped and counted.

  usage: scripts/rare_word_ranks.py --checkpoint CKPT --data DATA --table EXTENDED.npz
         [--split test] [--out OUT.md]
"""

import argparse
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import torch

from markdown_json import emit_table


def reference_ranks(predicted: torch.Tensor, table: torch.Tensor, rows: Sequence[int]) -> List[int]:
    """For each position, how many table rows score strictly above the reference row (0 = nearest).

    predicted: (T, d) vectors; table: (V, d) unit rows; rows: the reference row per position."""
    scores = torch.nn.functional.normalize(predicted.float(), dim=-1) @ table.T
    reference = scores.gather(1, torch.as_tensor(list(rows)).unsqueeze(1))
    return (scores > reference).sum(dim=1).tolist()


def summarise(ranks: Sequence[int]) -> Dict[str, float]:
    ranks = np.asarray(ranks)
    if ranks.size == 0:
        return {"positions": 0, "top1": float("nan"), "top10": float("nan"), "median_rank": float("nan")}
    return {"positions": int(ranks.size), "top1": float(np.mean(ranks == 0)), "top10": float(np.mean(ranks < 10)),
            "median_rank": float(np.median(ranks))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="a continuous-output checkpoint")
    parser.add_argument("--data", type=Path, required=True, help="its prepared data folder (bin/, tok/)")
    parser.add_argument("--table", type=Path, required=True, help="the decoding table (e.g. an extended one)")
    parser.add_argument("--split", default="test", help="split to read (default test)")
    parser.add_argument("--out", type=Path, help="Markdown table to write (and .json beside it)")
    args = parser.parse_args(argv)
    from fairseq import checkpoint_utils

    import fairseq_vmf  # noqa: F401  (registers the plugin's task and models)

    models, cfg, task = checkpoint_utils.load_model_ensemble_and_task(
        [str(args.checkpoint)], arg_overrides={"data": str(args.data / "bin")})
    model = models[0].eval()
    task.load_dataset(args.split)
    dataset, dictionary = task.dataset(args.split), task.target_dictionary
    with np.load(args.table, allow_pickle=False) as data:
        table = torch.nn.functional.normalize(torch.as_tensor(data["vectors"], dtype=torch.float32), dim=-1)
        row_of = {word: i for i, word in enumerate(data["symbols"].tolist())}
    references = (args.data / "tok" / f"{args.split}.{task.cfg.target_lang}").read_text(encoding="utf-8").splitlines()
    ranks = {"in the training dictionary": [], "extra rows (cut words)": []}
    no_row = 0
    with torch.no_grad():
        for index in range(len(dataset)):
            sample, words = dataset[index], references[index].split()
            target = sample["target"]
            if len(words) + 1 != target.numel():  # the binarized line must be the reference's words + </s>
                raise SystemExit(f"rare_word_ranks: line {index + 1} of the {args.split} references does not "
                                 f"match the binarized target in {args.data}/bin")
            previous = torch.cat([target.new_tensor([dictionary.eos()]), target[:-1]]).unsqueeze(0)
            source = sample["source"].unsqueeze(0)
            predicted, _ = model(source, source.new_tensor([source.numel()]), previous)
            kept = [(j, row_of[w]) for j, w in enumerate(words) if w in row_of]
            no_row += len(words) - len(kept)
            if not kept:
                continue
            positions, rows = zip(*kept)
            for row, rank in zip(rows, reference_ranks(predicted[0, list(positions)], table, rows)):
                ranks["extra rows (cut words)" if row >= len(dictionary) else "in the training dictionary"].append(rank)
    results = {name: summarise(values) for name, values in ranks.items()}
    lines = [f"| reference word | positions | nearest row (top-1) | top-10 | median rank of {len(row_of):,} |",
             "|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['positions']} | {100 * r['top1']:.1f}% | {100 * r['top10']:.1f}% "
                     f"| {r['median_rank']:.0f} |")
    lines += ["", f"{no_row} reference positions have no row in {args.table.name} (skipped)."]
    emit_table(lines, {**results, "no_row": no_row}, args.out)


if __name__ == "__main__":
    main()
