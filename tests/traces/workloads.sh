# Sourced by the record scripts of this directory, from the repository's
# root: starts lw-workload processes that stop by themselves after
# $workload_seconds, and ends every one still running when the script exits.
workload=build/tests/lw-workload
leakwatch=build/cli/leakwatch
out=tests/traces
started=()
trap 'for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done' EXIT

# Starts a workload in the background, its PID in $last_pid and its first
# line in $ready: "ready ..." once set up, or churn's "done ..." once its
# first round ended.
start() {
  local log
  log=$(mktemp)
  "$workload" "$@" --max-seconds "$workload_seconds" > "$log" &
  started+=($!)
  last_pid=$!
  until grep -qE '^(ready|done)' "$log"; do sleep 0.1; done
  ready=$(grep -m1 -E '^(ready|done)' "$log")
  rm -f "$log"
}
