#!/usr/bin/env bash
# Records the long real-workload traces of this directory: slow leaks and
# healthy load on loopback, each watched at the production intervals (15 s
# and 60 s) with the default windows and --stall-after, by
# `leakwatch inspect --watch MINUTES --record`. Every watch of a set runs at
# once, so a set takes MINUTES (default 75). SET: `leaks` (slow leaks and
# steady load), `demand` (healthy growth that looks like a leak for a while)
# or `all` (the default). Run as root from the repository with the project
# built in build/; the workloads stop by themselves.
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-75}
which=${2:-all}
case "$which" in
  leaks | demand | all) ;;
  *) echo "record-long.sh: unknown set '$which' (leaks, demand or all)" >&2; exit 2 ;;
esac
workload_seconds=$((minutes * 60 + 300))
source tests/traces/workloads.sh

verdicts=$(mktemp -d)
watches=()
record() {
  local name=$1 pid=$2 interval
  for interval in 15s 60s; do
    "$leakwatch" inspect "$pid" --watch "${minutes}m" --interval "$interval" \
      --record "$out/$name-$interval.jsonl" > "$verdicts/$name-$interval.txt" &
    watches+=($!)
  done
}

record_leaks() {
  # Leaks at the slow rates the analysis must still name within an hour.
  start heap-grow --bytes-per-second 25600
  record heap-leak-25kib-per-second "$last_pid"

  start serve --bind 127.0.0.1 --port 0
  port=${ready#ready }
  start connect --to 127.0.0.1 --port "$port" --count 0 --open-every 60000
  record connection-leak-1-per-minute "$last_pid"

  # The server closes each connection at once; the client never does.
  start serve --bind 127.0.0.1 --port 0 --close-on-accept
  port=${ready#ready }
  start connect --to 127.0.0.1 --port "$port" --count 0 --open-every 60000
  record close-wait-leak-1-per-minute "$last_pid"

  start fd-leak --every 60000
  record fd-leak-1-per-minute "$last_pid"

  # Healthy: four streams of 5 KB/s read every 20 s, a backlog that always
  # drains; and ten short connections a second, each read to its end.
  start serve --bind 127.0.0.1 --port 0 --stream --rate 5000
  port=${ready#ready }
  start connect --to 127.0.0.1 --port "$port" --count 4 --read-every 20000
  record backlog-drained-every-20s "$last_pid"

  start serve --bind 127.0.0.1 --port 0 --send-bytes 10000 --close-after-send
  port=${ready#ready }
  start churn --to 127.0.0.1 --port "$port" --count 100 --forever --rate 10
  record short-connections-10-per-second "$last_pid"
}

# Healthy growth that looks like a leak until it stops: a pool opening one
# connection every 10 s up to 60, each carrying a stream that is read; a
# cache warming at 500 KiB/s for 20 minutes; a garbage-collected heap
# climbing 200 KiB/s and collected every 10 minutes.
record_demand() {
  start serve --bind 127.0.0.1 --port 0 --stream --rate 2000
  port=${ready#ready }
  start connect --to 127.0.0.1 --port "$port" --count 1 --read-every 1000 --open-every 10000 --max-connections 60
  record pool-filling-to-60 "$last_pid"

  start heap-grow --bytes-per-second 512000 --cap 614400000
  record cache-warming-20-minutes "$last_pid"

  start heap-grow --bytes-per-second 204800 --release-every 600
  record gc-sawtooth-10-minutes "$last_pid"
}

if [[ "$which" != demand ]]; then record_leaks; fi
if [[ "$which" != leaks ]]; then record_demand; fi

wait "${watches[@]}" || true
echo "verdicts of the watches: $verdicts"
