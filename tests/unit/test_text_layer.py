"""The text layer (``fairseq_vmf_text``) stays free of fairseq and torch, so the text
commands start without fairseq's seconds of imports; it shares the plugin's error type."""

import subprocess
import sys

from fairseq_vmf.errors import InputError as PluginInputError
from fairseq_vmf_text.errors import InputError


def test_text_commands_import_neither_fairseq_nor_torch():
    probe = ("import sys, fairseq_vmf_text.detokenize, fairseq_vmf_text.segment, fairseq_vmf_text.corpus; "
             "print(sorted({name.split('.')[0] for name in sys.modules} & {'fairseq', 'fairseq_vmf', 'torch', 'numpy'}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_plugin_and_the_text_layer_raise_one_error_type():
    # fairseq_vmf's excepthook and run_main catch the text layer's errors as their own
    assert PluginInputError is InputError
