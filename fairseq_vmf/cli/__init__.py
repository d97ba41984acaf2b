"""Command-line entry points (installed as ``fairseq-vmf-*`` console scripts)."""
