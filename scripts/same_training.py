"""Whether a finished training run is the one a fairseq-train command line would make.

The seed table reuses runs already trained by other recipes (the main job, the softmax twin)
when a row's command is the same training: this compares the configuration stored in the
run's checkpoint with the configuration fairseq builds from the row's argv, key by key.
Paths may differ where the files behind them are identical: the data folder (every file of
the binarized folder, byte for byte) and the target table (the same arrays). Options added
to the plugin after the run was trained are absent from its checkpoint; they pass only at
their default value (they cannot have changed the run). Keys the run has and the command
does not are the ones fairseq's model builder fills in from the others (max_*_positions,
target_embed_dim): they follow from what is compared.

    python scripts/same_training.py --checkpoint DIR/checkpoint_last.pt [--allow OPTION ...] -- ARGV...
exits 0 and prints "same training" or exits 1 and lists every differing key.
"""
import argparse
import hashlib
import logging
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

# where a run was written or resumed from, logging and worker settings: not the training
IGNORED = {"save_dir", "restore_file", "tensorboard_logdir", "wandb_project", "log_file",
           "num_workers", "distributed_port", "device_id", "distributed_rank", "log_format",
           "log_interval", "no_progress_bar", "user_dir"}


def folder_digest(folder):
    digest = hashlib.sha256()
    for path in sorted(Path(folder).iterdir()):
        if path.is_file() and path.name != "preprocess.log":  # the log names its own paths
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def table_digest(path):
    digest = hashlib.sha256()
    with np.load(path, allow_pickle=False) as table:
        for name in sorted(table.files):
            digest.update(name.encode() + b"\0" + np.ascontiguousarray(table[name]).tobytes())
    return digest.hexdigest()


def same_model_class(old, new):
    """Two architecture names registered for one model class differ only in the defaults
    they fill in, and every hyperparameter is compared key by key anyway."""
    from fairseq.models import ARCH_MODEL_REGISTRY
    return old in ARCH_MODEL_REGISTRY and ARCH_MODEL_REGISTRY.get(old) is ARCH_MODEL_REGISTRY.get(new)


def same_files(key, old, new):
    if key in ("arch", "_name") and isinstance(old, str):
        return same_model_class(old, new)
    if key == "data":
        return all(Path(p).is_dir() for p in (old, new)) and folder_digest(old) == folder_digest(new)
    if key in ("target_embeddings", "decode_target_embeddings") and old and new:
        return all(Path(p).is_file() for p in (old, new)) and table_digest(old) == table_digest(new)
    return False


def flatten(cfg, prefix=""):
    for key, value in cfg.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def plain(cfg):
    """Nested dicts of plain values from fairseq's mix of DictConfig, dict and Namespace."""
    from omegaconf import DictConfig, OmegaConf
    if isinstance(cfg, DictConfig):
        cfg = OmegaConf.to_container(cfg, resolve=True)
    if isinstance(cfg, argparse.Namespace):
        cfg = vars(cfg)
    if isinstance(cfg, dict):
        return {key: plain(value) for key, value in cfg.items()}
    return cfg


def differences(stored, built, defaults, allowed=()):
    old, new = dict(flatten(plain(stored))), dict(flatten(plain(built)))
    found = []
    for key in sorted(set(old) | set(new)):
        name = key.rsplit(".", 1)[-1]
        if name in IGNORED or name in allowed or key.startswith("distributed_training."):
            continue
        if key not in old:
            if new[key] != defaults.get(key, object()):
                found.append(f"{key}: absent from the run, {new[key]!r} in the command")
            continue
        if key not in new:  # set by the model's build step from the other options
            continue
        if old[key] != new[key] and not same_files(name, old[key], new[key]):
            found.append(f"{key}: {old[key]!r} in the run, {new[key]!r} in the command")
    return found


def build_cfg(argv):
    from fairseq import options
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf
    parser = options.get_training_parser()
    return convert_namespace_to_omegaconf(options.parse_args_and_arch(parser, input_args=argv))


def default_cfg(argv):
    """The configuration of the command with only its data folder and component names kept
    (task, arch, criterion, ...): every other option at its default."""
    keep = {"--user-dir", "--task", "--arch", "--criterion", "--optimizer", "--lr-scheduler",
            "--target-embeddings", "--source-lang", "--target-lang"}
    short = [argv[0]]
    for i, arg in enumerate(argv):
        if arg in keep and i + 1 < len(argv):
            short += [arg, argv[i + 1]]
    return dict(flatten(plain(build_cfg(short))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="a checkpoint of the finished run")
    parser.add_argument("--allow", action="append", default=[], metavar="OPTION",
                        help="an option that may differ (e.g. max_update when a resumed run goes on longer)")
    parser.add_argument("argv", nargs=argparse.REMAINDER, help="-- then the fairseq-train arguments")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # hydra's deprecation notes on fairseq's own configs
    logging.disable(logging.WARNING)
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not Path(args.checkpoint).is_file():
        sys.exit(f"same_training.py: --checkpoint {args.checkpoint}: no such file")
    import fairseq_vmf  # noqa: F401  (its import lets torch load fairseq checkpoints safely)
    stored = torch.load(args.checkpoint, map_location="cpu")["cfg"]
    found = differences(stored, build_cfg(argv), default_cfg(argv), set(args.allow))
    if found:
        print(f"not the same training as {args.checkpoint}:")
        print("\n".join(f"  {line}" for line in found))
        sys.exit(1)
    print(f"same training as {args.checkpoint}")


if __name__ == "__main__":
    main()
