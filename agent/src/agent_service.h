// leakwatch-agent's lifecycle: configuration, BPF programs, the metrics
// endpoint, the sampling loop, and a clean stop on SIGTERM or SIGINT.
#pragma once

namespace lw {

// Returns the process exit code (see leakwatch/exit_codes.h).
int run_agent(int argc, char** argv);

}  // namespace lw
