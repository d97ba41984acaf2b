"""fairseq_vmf: continuous-output translation (von Mises-Fisher loss) as a fairseq plugin.

fairseq imports this package as the ``--user-dir`` in every process (trainer, workers,
generate). Importing it therefore does only cheap work: it imports every submodule that
registers fairseq components, so registration never depends on fairseq's auto-import
of ``tasks/`` and ``models/``, and it lets torch's safe checkpoint loader accept fairseq
checkpoints; an uncaught ``InputError`` (bad file or flag) prints as one line
rather than a traceback. fastText, FAISS and SentencePiece are imported only where they are used.
"""

from . import checkpoint_compat, errors
from . import checkpoint_files  # noqa: F401  (torn-checkpoint checks: zipfile only)
from . import maths  # noqa: F401  (log C_m, losses: plain torch)
from . import criterions  # noqa: F401  (registers vmf, cosine, l2, max_margin)
from . import models  # noqa: F401  (registers continuous_transformer, continuous_lstm)
from . import search  # noqa: F401  (kNN backends; FAISS imported lazily)
from . import generation  # noqa: F401  (the kNN beam-search generator)
from . import tasks  # noqa: F401  (registers translation_vmf)
from . import data  # noqa: F401  (pipeline steps, checked dictionaries; raw text is in fairseq_vmf_text)
from . import embeddings  # noqa: F401  (word vectors and the target-embedding table)
from . import profiling  # noqa: F401  (the largest-tensor probe of the benchmarks and tests)

from .maths import log_cmk, log_cmk_approx  # noqa: F401  (public maths)

__version__ = "0.1.0"

checkpoint_compat.allow_fairseq_checkpoints()
errors.install_excepthook()
