#!/usr/bin/env bash
# Runs the bpf tier (BUILD_DIR/tests/bpf_tests) and the agent's backend tests
# in a QEMU guest for every configuration of matrix.tsv, prints each test's result, and writes a
# markdown table: kernel, whether its config was readable, a result per
# feature group, and whether the configuration behaved as matrix.tsv expects.
# Exits non-zero if any configuration deviates.
#
#   matrix.sh BUILD_DIR [OUTPUT_MD]     (default BUILD_DIR/kernel-matrix/matrix.md)
#
# Guest logs go to BUILD_DIR/kernel-matrix/CONFIGURATION.log.
set -euo pipefail

# Feature groups: the bpf_tests tests (Suite.Test, grep -E) a table column
# summarises, minus the exceptions ("-": none).
# column	tests	except
groups='socket pass (bpf)	^Backends/SocketSourceTest\..*/bpf 	VanishedPid
socket pass (netlink)	^Backends/SocketSourceTest\..*/netlink 	-
backends agree	^BackendsAgree\.	-
pid-targeted pass	ForProcess|^InspectCliTest\.	-
close events + socket storage	^CloseEventsTest\.	-
agent (bpf)	^Backends/AgentBackendTest\..*/bpf 	-
agent (netlink)	^Backends/AgentBackendTest\..*/netlink |^NetlinkCloses\.	-'

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(($# >= 1 && $# <= 2)) || { echo "usage: $0 BUILD_DIR [OUTPUT_MD]" >&2; exit 2; }
# Absolute: bpf_tests runs lw-workload and leakwatch by their build paths.
build=$(realpath "$1")
logs=$build/kernel-matrix
output=${2:-$logs/matrix.md}
mkdir -p "$logs" "$(dirname "$output")"

# "Suite.Test RESULT" for every test that finished, from a guest log.
test_results() {
  tr -d '\r' <"$1" | sed -nE 's/^\[ +(OK|FAILED|SKIPPED) +\] ([^ ]+) \([0-9]+ ms\)$/\2 \1/p'
}

# The value of a KEY=value line the guest printed.
guest_value() {
  tr -d '\r' <"$1" | sed -n "s/^$2=//p" | tail -n 1
}

# One table cell: how the tests of a feature group fared.
group_cell() {
  local results=$1 tests=$2 except=$3 selected
  selected=$(grep -E "$tests" <<<"$results" | { [[ $except == - ]] && cat || grep -vE "$except"; } || true)
  local total passed failed
  total=$(grep -c . <<<"$selected" || true)
  passed=$(grep -c ' OK$' <<<"$selected" || true)
  failed=$(grep -c ' FAILED$' <<<"$selected" || true)
  if ((total == 0)); then echo "no tests"
  elif ((failed > 0)); then echo "FAIL $passed/$total"
  elif ((passed == total)); then echo "pass $passed/$total"
  else echo "skipped $((total - passed))/$total"
  fi
}

header="| configuration | kernel release | BTF | config readable |"
rule="| --- | --- | --- | --- |"
while IFS=$'\t' read -r column _ _; do
  header+=" $column |"
  rule+=" --- |"
done <<<"$groups"
rows=()
deviations=0

while IFS=$'\t' read -r name kernel config expect regex; do
  log=$logs/$name.log
  echo "=== matrix: $name ($kernel $config, expect $expect)"
  start=$SECONDS
  binaries=(--file "$build/tests/lw-workload" --file "$build/cli/leakwatch" --file "$build/agent/leakwatch-agent"
            --file "$build/tests/bpf_tests" --file "$build/tests/agent_tests")
  if [[ $expect == pass ]]; then
    command=("${binaries[@]}" -- "$here/run-tiers.sh" "$build/tests/bpf_tests" "$build/tests/agent_tests")
  else
    command=("${binaries[@]}" --file "$here/expect-refused.sh"
             -- "$here/expect-netlink.sh" "$build/cli/leakwatch" "$build/tests/bpf_tests" "$build/tests/agent_tests" "$regex")
  fi
  code=0
  "$here/run-in-guest.sh" "$kernel" "$config" --log "$log" "${command[@]}" || code=$?
  seconds=$((SECONDS - start))

  results=$(test_results "$log")
  if [[ -n $results ]]; then
    echo "=== matrix: $name: per test"
    column -t <<<"$results"
  fi
  row="| $name | $(guest_value "$log" LEAKWATCH-GUEST-RELEASE) | $(guest_value "$log" LEAKWATCH-GUEST-BTF)"
  row+=" | $(guest_value "$log" LEAKWATCH-GUEST-CONFIG) |"
  while IFS=$'\t' read -r _ tests except; do
    row+=" $(group_cell "$results" "$tests" "$except") |"
  done <<<"$groups"
  if [[ $expect == pass ]]; then
    note="tests exit $code"
  else
    # Markdown cells cannot hold a bare |.
    note="--backend bpf: exit $(guest_value "$log" LEAKWATCH-REFUSED-CODE): $(guest_value "$log" LEAKWATCH-REFUSED-STDERR | sed 's/|/\\|/g'); auto: exit $(guest_value "$log" LEAKWATCH-AUTO-CODE)"
  fi
  if ((code == 0)); then verdict="as expected"; else verdict="**DEVIATES**"; deviations=$((deviations + 1)); fi
  rows+=("$row $expect | $verdict | $note | ${seconds}s |")
  echo "=== matrix: $name: $verdict (run-in-guest exit $code, ${seconds}s)"
done < <(grep -v '^#' "$here/matrix.tsv")

{
  echo "$header expected | result | notes | time |"
  echo "$rule --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
} >"$output"
cat "$output"
((deviations == 0)) || { echo "matrix: $deviations configuration(s) deviate from matrix.tsv" >&2; exit 1; }
