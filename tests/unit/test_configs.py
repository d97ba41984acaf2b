"""Every YAML under configs/ parses as the options of the command it is for."""

from pathlib import Path

import pytest

from fairseq_vmf.cli import build_embeddings, prepare_data
from fairseq_vmf_text.commands import parse_args
from tests.helpers import REPO

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
