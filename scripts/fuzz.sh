#!/usr/bin/env bash
# Fuzzes every parser of outside input (tests/fuzz: /proc files, cgroup
# files, sockstat and tcp_mem, kubelet log names, the TOML config, BPF
# records as bytes, sock_diag messages) with libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, each target for a bounded time from its seed
# corpus. Fails when any target crashes, breaks one of its invariants, leaks
# or hangs; the input that did it is in BUILD_DIR/fuzz-artifacts/<target>/.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [BUILD_DIR]   (defaults: 20, build-fuzz)
# LW_FUZZ_RUNS=N also stops each target after N executions (the long run in
# the README: LW_FUZZ_RUNS=10000000 scripts/fuzz.sh 7200).
set -euo pipefail
seconds=${1:-20}
build=${2:-build-fuzz}
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
corpora=$source_dir/tests/fuzz/corpus

cmake -S "$source_dir" -B "$build" -DLEAKWATCH_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build" -j2

limits=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
[[ -n ${LW_FUZZ_RUNS:-} ]] && limits+=(-runs="$LW_FUZZ_RUNS")

failed=()
printf '%-16s %14s %9s  %s\n' target executions seconds result
for seed in "$corpora"/*/; do
  target=$(basename "$seed")
  work=$build/fuzz-corpus/$target        # what the run learns; the seeds stay as committed
  artifacts=$build/fuzz-artifacts/$target
  log=$build/fuzz-logs/$target.log
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  start=$SECONDS
  if "$build/tests/fuzz/fuzz_$target" "${limits[@]}" -artifact_prefix="$artifacts/" "$work" "$seed" >"$log" 2>&1; then
    result=ok
  else
    result="FAILED: $(ls "$artifacts" | tr '\n' ' ')"
    failed+=("$target")
  fi
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  printf '%-16s %14s %9s  %s\n' "$target" "${executions:-?}" "$((SECONDS - start))" "$result"
done

for target in "${failed[@]}"; do
  echo "--- $target ($build/fuzz-logs/$target.log) ---"
  grep -m1 -B2 -A30 -E '^==[0-9]+==|invariant broken|runtime error|deadly signal' "$build/fuzz-logs/$target.log" || \
    tail -40 "$build/fuzz-logs/$target.log"
done
[[ ${#failed[@]} -eq 0 ]]
