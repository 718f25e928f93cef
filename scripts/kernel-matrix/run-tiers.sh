#!/bin/sh
# Runs in a guest whose kernel loads leakwatch's BPF programs (matrix.tsv,
# expect "pass"): the whole bpf tier (both socket backends, and the test that
# they agree socket by socket), then the agent through each backend. Both
# run whatever the first gave, so the table shows each.
#   run-tiers.sh BPF_TESTS AGENT_TESTS
set -u
bpf_tests=$1 agent_tests=$2
"$bpf_tests" --gtest_brief=0 --gtest_color=no
bpf=$?
"$agent_tests" --gtest_brief=0 --gtest_color=no --gtest_filter='Backends/AgentBackendTest.*:NetlinkCloses.*'
agent=$?
[ "$bpf" -eq 0 ] && [ "$agent" -eq 0 ]
