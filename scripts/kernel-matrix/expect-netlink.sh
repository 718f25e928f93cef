#!/bin/sh
# Runs in a guest whose kernel refuses leakwatch's BPF programs (matrix.tsv,
# expect "netlink"): `--backend bpf` must still exit 8 with one line naming
# the missing feature (and -v show the whole verifier log), `auto` must fall
# back to netlink, say why in one line and report (closes included, from
# sock_diag's destroy notifications), and the netlink halves of the socket
# and agent tests must pass: the same numbers without BPF.
#   expect-netlink.sh LEAKWATCH BPF_TESTS AGENT_TESTS REGEX
set -u
cli=$1 bpf_tests=$2 agent_tests=$3 regex=$4
"$(dirname "$0")/expect-refused.sh" "$cli" "$regex" || exit 1
"$cli" inspect 1 >/tmp/auto.stdout 2>/tmp/auto.stderr
code=$?
echo "LEAKWATCH-AUTO-CODE=$code"
echo "LEAKWATCH-AUTO-STDERR=$(cat /tmp/auto.stderr)"
if [ "$code" -ne 0 ] || [ "$(wc -l </tmp/auto.stderr)" -ne 1 ] ||
  ! grep -q "using the netlink socket backend" /tmp/auto.stderr || ! grep -qE "$regex" /tmp/auto.stderr; then
  echo "expect-netlink: FAILED: auto did not fall back to netlink with one line naming why (/$regex/)"
  exit 1
fi
# Closes too: where BPF's close events are refused, auto takes sock_diag's
# destroy notifications, and says nothing of connections not counted.
"$cli" inspect 1 --watch 2s --interval 1s >/dev/null 2>/tmp/watch.stderr
code=$?
echo "LEAKWATCH-AUTO-WATCH-CODE=$code"
echo "LEAKWATCH-AUTO-WATCH-STDERR=$(cat /tmp/watch.stderr)"
if { [ "$code" -ne 0 ] && [ "$code" -ne 10 ]; } || grep -q "are not counted" /tmp/watch.stderr; then
  echo "expect-netlink: FAILED: auto's watch counts no closes"
  exit 1
fi
"$bpf_tests" --gtest_brief=0 --gtest_color=no --gtest_filter='Backends/SocketSourceTest.*/netlink' || exit 1
"$agent_tests" --gtest_brief=0 --gtest_color=no --gtest_filter='Backends/AgentBackendTest.*/netlink:NetlinkCloses.*' || exit 1
echo "expect-netlink: as expected"
