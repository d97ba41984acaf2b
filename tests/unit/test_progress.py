"""fairseq-vmf-progress: where a fixed-budget run stands, from fairseq's log lines."""

from fairseq_vmf.cli.progress import Progress, clock


class FakeClock:
    def __init__(self):
        self.seconds = 0.0

    def __call__(self):
        return self.seconds


def test_progress_extrapolates_time_per_update_and_tracks_valid_bleu():
    now = FakeClock()
    progress = Progress(1000, now=now)
    assert progress.line("2026 | INFO | fairseq_cli.train | loaded checkpoint") is None
    first = progress.line("| train_inner | epoch 001:  50 / 121 loss=1.2, num_updates=100, lr=1e-4")
    assert first == "progress: update 100/1000 (10%), elapsed 0m00s"
    now.seconds = 90.0  # 90 s for the next 100 updates: 800 more take 12 minutes
    valid = progress.line("| valid | epoch 002 | valid on 'valid' subset | loss 3 | bleu 12.5 | num_updates 200 | best_bleu 14.1")
    assert valid == "progress: update 200/1000 (20%), valid BLEU 12.50 (best 14.10), elapsed 1m30s, about 12m00s left"
    now.seconds = 4000.0
    last = progress.line("| train_inner | epoch 009: 9 / 121 loss=1, num_updates=1000, lr=1e-4")
    assert last.endswith("elapsed 1h06m, about 0m00s left") and "valid BLEU 12.50" in last


def test_clock():
    assert clock(59.9) == "0m59s" and clock(3661) == "1h01m"
