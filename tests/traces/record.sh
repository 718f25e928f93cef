#!/usr/bin/env bash
# Records the real-workload traces of this directory: each scenario of
# tests/scenario/watch_scenario_test.cpp that is listed here, run on
# loopback with lw-workload, watched by `leakwatch inspect --watch 30s
# --interval 1s --stall-after 5s --record`. Run as root from the repository
# with the project built in build/; the workloads stop by themselves.
set -euo pipefail
cd "$(dirname "$0")/../.."
workload_seconds=60
source tests/traces/workloads.sh

record() {
  local name=$1 pid=$2
  "$leakwatch" inspect "$pid" --watch 30s --interval 1s --stall-after 5s --record "$out/$name.jsonl" > /dev/null || true
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  started=()
}

# A publisher keeping what a subscriber that stopped reading does not take.
start serve --bind 127.0.0.1 --port 0 --stream --rate 1000000 --keep-unsent
server=$last_pid port=${ready#ready }
start connect --to 127.0.0.1 --port "$port" --count 2 --read-rate 100000000
start connect --to 127.0.0.1 --port "$port" --count 1 --rcvbuf 65536
record stalled-subscriber-of-a-fan-out "$server"

# Five idle connections a second, never closed.
start serve --bind 127.0.0.1 --port 0
port=${ready#ready }
start connect --to 127.0.0.1 --port "$port" --count 0 --open-every 200
record connection-leak "$last_pid"

# Five connections a second, each streamed 2 KB/s and read: demand.
start serve --bind 127.0.0.1 --port 0 --stream --rate 2000
port=${ready#ready }
start connect --to 127.0.0.1 --port "$port" --count 0 --open-every 200 --read-rate 10000000
record busy-connections-growing "$last_pid"

# A reader at half the rate of its stream.
start serve --bind 127.0.0.1 --port 0 --stream --rate 400000
port=${ready#ready }
start connect --to 127.0.0.1 --port "$port" --count 4 --read-rate 200000 --rcvbuf 8388608
record slow-reader-of-a-stream "$last_pid"
