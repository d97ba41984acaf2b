"""fairseq_vmf: continuous-output NMT (von Mises-Fisher loss) as a fairseq --user-dir plugin.

One tested stack is pinned exactly; README.md ("Why these pins") says why each pin is there.
"""

from setuptools import find_packages, setup

INSTALL_REQUIRES = [
    # fairseq 0.12.2 does not import on Python 3.11; ve-fairseq 0.12.3 is fairseq main
    # @ecbf110e with the 3.11 dataclass fix, as a cp311 wheel.
    "ve-fairseq==0.12.3",
    "torch==2.13.0",
    # ve-fairseq declares torchaudio; 2.11.0 is the newest release and it cannot load
    # against torch 2.13, but nothing on the text path imports it (a test checks).
    "torchaudio==2.11.0",
    "numpy==2.4.6",
    "hydra-core==1.3.8",
    "omegaconf==2.3.1",
    # imported at module level by fairseq tasks/criteria that fairseq auto-imports
    "scikit-learn==1.9.1",
    "fasttext-community==0.11.9",
    "faiss-cpu==1.15.1",
    "sacrebleu==2.6.0",
    "sentencepiece==0.2.3",
    "sacremoses==0.2.0",
    "PyYAML==6.0.4",
]

EXTRAS_REQUIRE = {
    "test": ["pytest==9.2.0", "scipy==1.17.1", "mpmath==1.3.0"],
    # plots of scripts/benchmark_training.py and scripts/plot_time_to_quality.py
    "bench": ["matplotlib==3.11.2"],
    # GPU FAISS replaces faiss-cpu (both install the `faiss` module): see the README.
    "gpu": ["faiss-gpu==1.15.1"],
}

setup(
    name="fairseq_vmf",
    version="0.1.0",
    description="Continuous-output machine translation (von Mises-Fisher loss) for fairseq",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["fairseq_vmf", "fairseq_vmf.*"]),
    python_requires=">=3.11,<3.12",
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    entry_points={
        "console_scripts": [
            "fairseq-vmf-prepare = fairseq_vmf.cli.prepare_data:cli_main",
            "fairseq-vmf-embed = fairseq_vmf.cli.build_embeddings:cli_main",
            "fairseq-vmf-detok = fairseq_vmf.cli.detokenize:cli_main",
            "fairseq-vmf-user-dir = fairseq_vmf.cli.common:print_user_dir",
            "fairseq-vmf-progress = fairseq_vmf.cli.progress:cli_main",
        ]
    },
)
