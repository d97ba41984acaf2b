"""Every YAML under configs/ parses as the options of the command it is for."""

from pathlib import Path

import pytest

from fairseq_vmf.cli import build_embeddings, prepare_data
from fairseq_vmf.cli.common import parse_args
from tests.helpers import REPO

PARSERS = {"prepare": prepare_data.build_parser, "embeddings": build_embeddings.build_parser}


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*/*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}")
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
