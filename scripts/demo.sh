#!/usr/bin/env bash
# The main job: a process that really holds unread data in kernel socket
# buffers on loopback, `leakwatch inspect` on it, then leakwatch-agent
# serving metrics about it until Ctrl-C.
# Usage: scripts/demo.sh [BUILD_DIR]   (as root)
set -euo pipefail
build=${1:-build}
workload="$build/tests/lw-workload"
leakwatch="$build/cli/leakwatch"
agent="$build/agent/leakwatch-agent"
listen=127.0.0.1:19849
connections=200
out=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$out"' EXIT
trap 'exit 130' INT TERM

# Waits until a workload's output has a line starting with $2; prints the rest.
await() {
  for _ in $(seq 200); do
    if line=$(grep -m1 "^$2 " "$1"); then echo "${line#"$2 "}"; return; fi
    sleep 0.05
  done
  echo "demo: the workload did not print '$2' in time" >&2
  exit 1
}

"$workload" serve --bind 127.0.0.1 --port 0 --send-bytes 131072 --count $connections --max-seconds 600 >"$out/server" &
pids+=($!)
port=$(await "$out/server" ready)
"$workload" connect --to 127.0.0.1 --port "$port" --count $connections --max-seconds 600 >"$out/client" &
client_pid=$!
pids+=("$client_pid")
await "$out/client" ready >/dev/null
await "$out/server" sent >/dev/null

echo "A client (PID $client_pid) holds $connections connections to 127.0.0.1:$port and reads none of them,"
echo "while the server streams 128 KiB into each. Its heap is tiny, yet:"
echo
"$leakwatch" inspect "$client_pid" --top 5

echo
echo "Now leakwatch-agent, as a DaemonSet runs it, serving http://$listen/metrics:"
"$agent" --listen-address "$listen" --interval 2s &
pids+=($!)
for _ in $(seq 100); do
  if curl -sf "http://$listen/metrics" | grep -q '^leakwatch_process_footprint_bytes'; then break; fi
  sleep 0.1
done
curl -sf "http://$listen/metrics" | grep -E "^leakwatch_process_(socket_unread_bytes|socket_queue_bytes|tcp_received_bytes_total|endpoint_connections)\{[^}]*pid=\"$client_pid\""
echo
echo "The agent keeps running (curl http://$listen/metrics); Ctrl-C stops it and the demo processes."
wait "${pids[-1]}"
