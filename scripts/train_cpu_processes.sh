#!/usr/bin/env bash
# Data-parallel training on one machine's CPUs: N fairseq-train processes joined by gloo.
# fairseq's own launchers (spawn, torchrun) assume one GPU per process; on CPU each rank is
# started by hand with --distributed-no-spawn and meets the others at a TCP address. Each
# rank reads its own shard of every update's batches, so N processes with --update-freq 1
# train like one process with --update-freq N (tests/integration/test_distributed.py).
#   usage: scripts/train_cpu_processes.sh N FAIRSEQ_TRAIN_ARGS...
#   PORT      the rendezvous port on 127.0.0.1 (default: 29500 + a random offset)
#   LOG_DIR   where ranks 1..N-1 write their logs (default: a new temporary folder);
#             rank 0 prints to this terminal
# If any rank fails the others are stopped (they would wait for it forever).
set -euo pipefail
N=${1:?usage: train_cpu_processes.sh N FAIRSEQ_TRAIN_ARGS...}
shift
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "train_cpu_processes.sh: N must be a positive number of processes, got '$N'" >&2; exit 2; }
PORT=${PORT:-$((29500 + RANDOM % 2000))}
LOG_DIR=${LOG_DIR:-$(mktemp -d -t fairseq_vmf_ranks.XXXXXX)}
mkdir -p "$LOG_DIR"
[ "$N" -gt 1 ] && echo "train_cpu_processes.sh: $N ranks at tcp://127.0.0.1:$PORT; ranks 1-$((N - 1)) log to $LOG_DIR" >&2

pids=()
stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_all INT TERM
for ((rank = 0; rank < N; rank++)); do
  args=("$@" --distributed-world-size "$N" --distributed-rank "$rank" --distributed-no-spawn
        --distributed-init-method "tcp://127.0.0.1:$PORT" --distributed-backend gloo
        --ddp-backend legacy_ddp --device-id 0)
  if [ "$rank" -eq 0 ]; then
    fairseq-train "${args[@]}" &
  else
    fairseq-train "${args[@]}" > "$LOG_DIR/rank$rank.log" 2>&1 &
  fi
  pids+=($!)
done
status=0
for _ in "${pids[@]}"; do
  if ! wait -n; then status=1; stop_all; fi
done
exit $status
