"""``fairseq-vmf-progress``: pass a fairseq-train log through, adding where the run stands.

fairseq prints losses and validation scores but not how far a fixed-budget run has got.
Reading the log on stdin, this prints every line unchanged and, after each training
or validation record, a line ``progress: update N/M (P%), valid BLEU b (best B),
elapsed E, about T left``; T extrapolates the time per update seen so far, validation
included.
"""

import argparse
import re
import sys
import time
from typing import List, Optional

from fairseq_vmf_text.commands import run_main

NUM_UPDATES = re.compile(r"num_updates[= ](\d+)")
VALID_BLEU = re.compile(r"\| bleu ([\d.]+)")
BEST_BLEU = re.compile(r"best_bleu ([\d.]+)")


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


class Progress:
    """Turns log lines into progress lines for a run of ``max_update`` updates."""

    def __init__(self, max_update: int, now=time.monotonic):
        self.max_update = max_update
        self.now = now
        self.start = now()
        self.first_update = None  # a resumed run starts counting from its first logged update
        self.bleu = self.best = None

    def line(self, text: str) -> Optional[str]:
        found = NUM_UPDATES.search(text)
        if not found or ("train_inner" not in text and "valid on" not in text):
            return None
        updates = int(found.group(1))
        if "valid on" in text:
            bleu, best = VALID_BLEU.search(text), BEST_BLEU.search(text)
            self.bleu = float(bleu.group(1)) if bleu else self.bleu
            self.best = float(best.group(1)) if best else self.bleu
        if self.first_update is None:
            self.first_update = updates
            self.start = self.now()
        elapsed = self.now() - self.start
        done = updates - self.first_update
        parts = [f"update {updates}/{self.max_update} ({100 * updates / self.max_update:.0f}%)"]
        if self.bleu is not None:
            parts.append(f"valid BLEU {self.bleu:.2f} (best {self.best:.2f})")
        parts.append(f"elapsed {clock(elapsed)}")
        if done > 0:
            parts.append(f"about {clock(elapsed / done * max(self.max_update - updates, 0))} left")
        return "progress: " + ", ".join(parts)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="fairseq-vmf-progress", description=__doc__.split("\n")[0])
    parser.add_argument("--max-update", type=int, required=True, help="the run's --max-update")
    args = parser.parse_args(argv)
    progress = Progress(args.max_update)
    for text in sys.stdin:
        sys.stdout.write(text)
        extra = progress.line(text)
        if extra:
            sys.stdout.write(extra + "\n")
        sys.stdout.flush()


def cli_main() -> None:
    run_main(main, "fairseq-vmf-progress")


if __name__ == "__main__":
    cli_main()
