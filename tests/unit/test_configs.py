"""Every YAML under configs/ parses as the options of the command it is for."""

from pathlib import Path

import pytest

from fairseq_vmf.cli import build_embeddings, prepare_data
from fairseq_vmf_text.commands import parse_args
from tests.helpers import REPO, recipe_env, run

PARSERS = {"prepare": prepare_data.build_parser, "embeddings": build_embeddings.build_parser}


COMMAND_CONFIGS = sorted((REPO / "configs" / "prepare").glob("*.yaml")) + sorted((REPO / "configs" / "embeddings").glob("*.yaml"))
TRAIN_CONFIGS = sorted((REPO / "configs" / "train").glob("*.yaml"))


@pytest.mark.parametrize("path", COMMAND_CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_config_parses_and_every_key_is_commented(path: Path):
    args = parse_args(PARSERS[path.parent.name](), ["--config", str(path), "--src", "en", "--tgt", "fr"]
                      if path.parent.name == "prepare" else ["--config", str(path)])
    keys = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    assert keys and all("#" in line for line in keys), "every key needs a comment"
    for line in keys:
        key, value = line.split("#")[0].split(":", 1)
        assert hasattr(args, key.strip())


def test_config_values_become_defaults():
    path = REPO / "configs" / "embeddings" / "word2vec.yaml"
    args = parse_args(build_embeddings.build_parser(), ["--config", str(path), "--dim", "50"])
    assert args.variant == "word2vec" and args.dim == 50  # command line wins over the file


def test_every_config_folder_is_covered():
    folders = {p.parent.name for p in (REPO / "configs").glob("*/*.yaml")}
    assert folders == {"prepare", "embeddings", "train"}


@pytest.mark.parametrize("path", TRAIN_CONFIGS, ids=lambda p: p.name)
def test_hydra_training_configs_are_commented_and_name_registered_components(path: Path):
    import yaml

    import fairseq_vmf  # noqa: F401  (registers the plugin's components)
    from fairseq.criterions import CRITERION_REGISTRY
    from fairseq.models import ARCH_MODEL_REGISTRY
    from fairseq.tasks import TASK_REGISTRY

    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert all("#" in line for line in lines), [line for line in lines if "#" not in line]
    config = yaml.safe_load(path.read_text())
    assert config["task"]["_name"] in TASK_REGISTRY
    assert config["model"]["_name"] in ARCH_MODEL_REGISTRY
    assert config["criterion"]["_name"] in CRITERION_REGISTRY
    assert config["common"]["user_dir"] == "???"


def compose_like_fairseq_hydra_train(config_dir: Path, name: str, overrides=()):
    """The configuration fairseq-hydra-train composes from ``--config-dir/--config-name``
    (hydra's 1.1 package semantics: fairseq's ``hydra.main`` sets no version_base), with
    fairseq's ``add_defaults`` applied."""
    import warnings

    from hydra import compose, initialize_config_dir
    from fairseq.dataclass.initialize import add_defaults, hydra_init

    hydra_init("config")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hydra's notes on the 1.1 package header
        with initialize_config_dir(config_dir=str(config_dir), version_base="1.1"):
            cfg = compose(config_name=name, overrides=list(overrides))
    add_defaults(cfg)
    return cfg


def unknown_keys(cfg) -> list:
    """(group, key) pairs that fairseq does not read: each group's keys are checked against
    the dataclass fairseq builds it into (the registered task/criterion/optimizer/scheduler's
    own for those groups) or, for args-style models, against the model's argparse options.
    Hydra's composition accepts any key here, so a misspelt one would be silently ignored."""
    import argparse
    import dataclasses

    from fairseq.dataclass.configs import FairseqConfig
    from fairseq.models import ARCH_MODEL_REGISTRY
    from fairseq.registry import REGISTRIES
    from fairseq.tasks import TASK_DATACLASS_REGISTRY

    top = {f.name: f.type for f in dataclasses.fields(FairseqConfig)}
    unknown = []
    for group, values in cfg.items():
        name = values.get("_name") if hasattr(values, "get") else None
        if group == "model":
            parser = argparse.ArgumentParser()
            ARCH_MODEL_REGISTRY[name].add_args(parser)
            allowed = {action.dest for action in parser._actions}
        elif group == "task":
            allowed = {f.name for f in dataclasses.fields(TASK_DATACLASS_REGISTRY[name])}
        elif group in REGISTRIES:
            allowed = {f.name for f in dataclasses.fields(REGISTRIES[group]["dataclass_registry"][name])}
        else:
            allowed = {f.name for f in dataclasses.fields(top[group])}
        unknown += [(group, key) for key in values if key != "_name" and key not in allowed]
    return unknown


REQUIRED = ["common.user_dir=/plugin/fairseq_vmf", "task.data=/data/bin"]


@pytest.mark.parametrize("path", TRAIN_CONFIGS, ids=lambda p: p.name)
def test_every_training_config_composes_as_fairseq_hydra_train_reads_it(path: Path):
    import yaml

    import fairseq_vmf  # noqa: F401  (registers the plugin's components)
    from omegaconf import OmegaConf

    written = yaml.safe_load(path.read_text())
    overrides = REQUIRED + (["task.target_embeddings=/data/table.npz"] if "target_embeddings" in written["task"] else [])
    cfg = compose_like_fairseq_hydra_train(path.parent, path.stem, overrides)
    assert unknown_keys(cfg) == []
    resolved = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    # every key the file sets arrives where fairseq reads it, with the file's value
    for group, values in written.items():
        for key, value in values.items():
            if value == "???":  # required on the command line: the overrides filled it
                assert resolved[group][key] != "???", (group, key)
                continue
            got = resolved[group][key]
            assert got == value or str(got) == str(value) or got == [value], (group, key, got, value)


def test_a_misspelt_key_is_caught(tmp_path):
    import fairseq_vmf  # noqa: F401

    broken = (REPO / "configs" / "train" / "vmf_transformer_small.yaml").read_text()
    broken = broken.replace("clip_norm:", "clip_nrom:").replace("tie_target_embeddings:", "tie_target_embedings:")
    (tmp_path / "broken.yaml").write_text(broken)
    cfg = compose_like_fairseq_hydra_train(tmp_path, "broken", REQUIRED + ["task.target_embeddings=/t.npz"])
    assert unknown_keys(cfg) == [("model", "tie_target_embedings"), ("optimization", "clip_nrom")]


def _leaf(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def _same_value(written, recipe) -> bool:
    if isinstance(recipe, list) and not isinstance(written, list):
        recipe = recipe[0] if len(recipe) == 1 else recipe
    if isinstance(written, list) and not isinstance(recipe, list):
        written = written[0] if len(written) == 1 else written
    try:
        return float(written) == float(recipe)
    except (TypeError, ValueError):
        return str(written).replace(" ", "") == str(recipe).replace(" ", "")


def test_main_job_config_is_the_training_main_sh_runs(tmp_path):
    """configs/train/vmf_transformer_tiny.yaml and scripts/main.sh (train.sh's vmf defaults, its
    own update budget) describe one training: each value the file writes is the recipe's, and
    each option the recipe moves off fairseq's default is written in the file."""
    import re
    import sys

    import yaml

    import fairseq_vmf  # noqa: F401
    sys.path.insert(0, str(REPO / "scripts"))
    from same_training import IGNORED, build_cfg, default_cfg, flatten, plain

    budget = re.search(r"MAX_UPDATE=\$\{MAX_UPDATE:-(\d+)\}", (REPO / "scripts/main.sh").read_text()).group(1)
    data = tmp_path / "data"
    (data / "embeddings").mkdir(parents=True)
    (data / "prepare.json").write_text('{"segmentation": {"en": "moses", "fr": "moses"}}')
    (data / "embeddings" / "fasttext_mix0.5.fr.npz").write_bytes(b"")  # train.sh only checks it exists
    printed = run(["bash", str(REPO / "scripts/train.sh"), "en", "fr", "vmf", str(data), str(tmp_path / "save")],
                  env=recipe_env(PRINT_ARGS="1", MAX_UPDATE=budget))
    assert printed.returncode == 0, printed.stderr
    argv = printed.stdout.splitlines()
    recipe = dict(flatten(plain(build_cfg(argv))))
    defaults = default_cfg(argv)
    written = dict(flatten(yaml.safe_load((REPO / "configs/train/vmf_transformer_tiny.yaml").read_text())))
    for key, value in written.items():
        if value == "???" or _leaf(key) in IGNORED:  # paths given on the command line
            continue
        assert _same_value(value, recipe[key]), (key, value, recipe[key])
    moved = {_leaf(k) for k, v in recipe.items() if defaults.get(k) != v and _leaf(k) not in IGNORED}
    assert moved - {_leaf(k) for k in written} == set()


def _train_args(tmp_path, system, **env):
    data = tmp_path / "data"
    (data / "embeddings").mkdir(parents=True, exist_ok=True)
    (data / "prepare.json").write_text('{"segmentation": {"en": "moses", "fr": "moses"}}')
    (data / "embeddings" / "fasttext_mix0.5.fr.npz").write_bytes(b"")  # train.sh only checks it exists
    return run(["bash", str(REPO / "scripts/train.sh"), "en", "fr", system, str(data), str(tmp_path / "save")],
               env=recipe_env(PRINT_ARGS="1", **env))


def test_pre_norm_layers_are_the_continuous_default_only(tmp_path):
    """train.sh: the continuous model trains pre-norm layers unless PRE_NORM=0; the softmax
    systems keep post-norm unless PRE_NORM=1; anything else is refused."""
    flags = {"--encoder-normalize-before", "--decoder-normalize-before"}

    def argv(system, **env):
        printed = _train_args(tmp_path, system, **env)
        assert printed.returncode == 0, printed.stderr
        return set(printed.stdout.splitlines())

    assert flags <= argv("vmf") and not flags & argv("vmf", PRE_NORM="0")
    assert not flags & argv("softmax") and flags <= argv("softmax", PRE_NORM="1")
    refused = _train_args(tmp_path, "vmf", PRE_NORM="yes")
    assert refused.returncode == 2 and "train.sh: PRE_NORM=yes: 1" in refused.stderr
    assert refused.stdout == ""
