#!/usr/bin/env bash
# The agent's tests again, every binary built with ThreadSanitizer: the
# exposer's threads render scrapes while the sampler publishes samples, and
# a data race anywhere in the agent fails its tests (see
# AgentTest.ConcurrentScrapesDuringSampling).
# Usage: scripts/test-tsan.sh [BUILD_DIR]   (as root)
set -euo pipefail
build=${1:-build-tsan}
cmake -S . -B "$build" -DLEAKWATCH_TSAN=ON
cmake --build "$build" -j2 --target agent_tests leakwatch-agent lw-workload
ctest --test-dir "$build" -L agent --output-on-failure --no-tests=error
