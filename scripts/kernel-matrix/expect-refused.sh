#!/bin/sh
# Runs in a guest whose kernel lacks what leakwatch's BPF programs need
# (matrix.tsv, expect "refused", and first in expect-netlink.sh):
# `leakwatch inspect 1 --backend bpf` must exit 8 with one line that names
# the missing feature, and `-v` must show the verifier's whole log (it is
# longer than any fixed buffer would keep).
#   expect-refused.sh LEAKWATCH REGEX
set -u
cli=$1 regex=$2
"$cli" inspect 1 --backend bpf 2>/tmp/inspect.stderr
code=$?
# matrix.sh copies the code and the line into its table.
echo "LEAKWATCH-REFUSED-CODE=$code"
echo "LEAKWATCH-REFUSED-STDERR=$(cat /tmp/inspect.stderr)"
if [ "$code" -ne 8 ]; then
  echo "expect-refused: FAILED: leakwatch exited $code, expected 8 (the kernel refused the BPF program)"
  exit 1
fi
if [ "$(wc -l </tmp/inspect.stderr)" -ne 1 ] || ! grep -qE "$regex" /tmp/inspect.stderr; then
  echo "expect-refused: FAILED: stderr is not one line naming the refused feature (/$regex/)"
  exit 1
fi
"$cli" -v inspect 1 --backend bpf 2>/tmp/inspect-verbose.stderr
if ! grep -q -- '-- END PROG LOAD LOG --' /tmp/inspect-verbose.stderr; then
  echo "expect-refused: FAILED: -v did not show the whole verifier log"
  tail -n 5 /tmp/inspect-verbose.stderr
  exit 1
fi
echo "expect-refused: as expected ($(wc -c </tmp/inspect-verbose.stderr) bytes of log with -v)"
