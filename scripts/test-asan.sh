#!/usr/bin/env bash
# The unit, bpf and agent tiers again, every binary built with
# AddressSanitizer (LeakSanitizer included) and UndefinedBehaviorSanitizer:
# an out-of-bounds access, use after free, leak, signed overflow, misaligned
# load or bad shift anywhere in the core, the CLI or the agent fails its test.
# The BPF programs themselves are compiled without sanitizers.
# Usage: scripts/test-asan.sh [BUILD_DIR]   (as root)
set -euo pipefail
build=${1:-build-asan}
cmake -S . -B "$build" -DLEAKWATCH_ASAN=ON
cmake --build "$build" -j2 --target unit_tests bpf_tests agent_tests leakwatch leakwatch-agent lw-workload
# Child processes (leakwatch, leakwatch-agent, lw-workload) inherit these.
# No LeakSanitizer suppressions: none of the libraries we link (libbpf,
# prometheus-cpp and its civetweb, fmt, libelf, zlib) leaves a leak at exit.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" -L '^(unit|bpf|agent)$' --output-on-failure --no-tests=error
