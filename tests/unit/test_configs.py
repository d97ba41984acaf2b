"""Every YAML under configs/ parses as the options of the command it is for."""

from pathlib import Path

import pytest

from fairseq_vmf.cli import build_embeddings, prepare_data
from fairseq_vmf.cli.common import parse_args
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
