#!/usr/bin/env bash
# The main job until the agent exists: a process that really holds unread
# data in kernel socket buffers on loopback, and `leakwatch inspect` on it.
# Usage: scripts/demo.sh [BUILD_DIR]   (as root)
set -euo pipefail
build=${1:-build}
workload="$build/tests/lw-workload"
leakwatch="$build/cli/leakwatch"
connections=200
out=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$out"' EXIT

# Waits until a workload's output has a line starting with $2; prints the rest.
await() {
  for _ in $(seq 200); do
    if line=$(grep -m1 "^$2 " "$1"); then echo "${line#"$2 "}"; return; fi
    sleep 0.05
  done
  echo "demo: the workload did not print '$2' in time" >&2
  exit 1
}

"$workload" serve --bind 127.0.0.1 --port 0 --send-bytes 131072 --count $connections --max-seconds 60 >"$out/server" &
pids+=($!)
port=$(await "$out/server" ready)
"$workload" connect --to 127.0.0.1 --port "$port" --count $connections --max-seconds 60 >"$out/client" &
client_pid=$!
pids+=("$client_pid")
await "$out/client" ready >/dev/null
await "$out/server" sent >/dev/null

echo "A client (PID $client_pid) holds $connections connections to 127.0.0.1:$port and reads none of them,"
echo "while the server streams 128 KiB into each. Its heap is tiny, yet:"
echo
"$leakwatch" inspect "$client_pid" --top 5
