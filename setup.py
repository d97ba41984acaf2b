"""fairseq_vmf: continuous-output NMT (von Mises-Fisher loss) as a fairseq --user-dir plugin.

Ranges here; the one tested stack is constraints.txt (README.md, "Why these pins").
"""

from setuptools import find_packages, setup

# Compatible ranges, so the plugin installs into an existing fairseq environment; the one
# stack tested together is constraints.txt (scripts/install.sh and CI install with it).
# README.md ("Why these pins") says why each bound is there.
INSTALL_REQUIRES = [
    # fairseq 0.12.2 does not import on Python 3.11; ve-fairseq 0.12.3 is fairseq main
    # @ecbf110e with the 3.11 dataclass fix, as a cp311 wheel.
    "ve-fairseq>=0.12.3,<0.13",
    # >= 2.6 loads with weights_only=True, which the plugin's allow-list handles
    "torch>=2.6",
    "numpy>=1.25",
    "hydra-core>=1.3,<1.4",
    "omegaconf>=2.3,<2.4",
    # imported at module level by fairseq tasks/criteria that fairseq auto-imports
    "scikit-learn>=1.3",
    # the maintained fork: the original fasttext 0.9.3 gave non-repeatable vectors
    "fasttext-community>=0.11.9,<0.12",
    "faiss-cpu>=1.7",
    "sacrebleu>=2.3,<3",
    "sentencepiece>=0.1.99",
    "sacremoses>=0.1",
    "PyYAML>=6",
    # --tensorboard-logdir: fairseq writes its scalars through tensorboardX
    "tensorboardX>=2.6",
]

EXTRAS_REQUIRE = {
    # the suite, including the benchmark scripts' plots; pytest-xdist runs it on 2 processes
    # (pytest.ini: most of its time is fairseq subprocesses starting, on one core each)
    "test": ["pytest>=8", "pytest-xdist>=3.5", "scipy>=1.11", "mpmath>=1.3", "matplotlib>=3.8"],
    # plots of scripts/benchmark_training.py and scripts/plot_time_to_quality.py
    "bench": ["matplotlib>=3.8"],
    # GPU FAISS replaces faiss-cpu (both install the `faiss` module): see the README.
    "gpu": ["faiss-gpu>=1.7"],
}

setup(
    name="fairseq_vmf",
    version="0.1.0",
    description="Continuous-output machine translation (von Mises-Fisher loss) for fairseq",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["fairseq_vmf", "fairseq_vmf.*", "fairseq_vmf_text"]),
    python_requires=">=3.11,<3.12",
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    entry_points={
        "console_scripts": [
            "fairseq-vmf-prepare = fairseq_vmf.cli.prepare_data:cli_main",
            "fairseq-vmf-embed = fairseq_vmf.cli.build_embeddings:cli_main",
            "fairseq-vmf-detok = fairseq_vmf_text.detokenize:cli_main",
            "fairseq-vmf-segment = fairseq_vmf_text.segment:cli_main",
            "fairseq-vmf-user-dir = fairseq_vmf.cli.common:print_user_dir",
            "fairseq-vmf-progress = fairseq_vmf.cli.progress:cli_main",
            "fairseq-vmf-average = fairseq_vmf.cli.average_checkpoints:cli_main",
        ]
    },
)
