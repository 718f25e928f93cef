// `leakwatch inspect PID --watch DURATION`: samples one process for a while,
// shows progress, then prints the report, a chart of the footprint against
// ingress, and a verdict.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include "inspect_command.h"

namespace lw::cli {

struct WatchOptions {
  std::chrono::milliseconds duration{0};
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds stall_after{60000};
  std::string record;  // --record FILE: every sample, for `leakwatch analyze`; empty: none
};

// Returns kExitOk, kExitLeakFound, or kExitProcessExited when the process
// ended during the watch (after reporting what was seen); throws lw::Error,
// also after the report when a --record file could not be written whole.
int run_watch(const InspectOptions& inspect, const WatchOptions& watch, std::ostream& out, std::ostream& progress);

}  // namespace lw::cli
