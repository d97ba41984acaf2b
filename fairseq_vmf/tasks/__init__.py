"""fairseq tasks of the plugin (registers translation_vmf)."""

from . import translation_vmf  # noqa: F401
