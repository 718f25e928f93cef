// `leakwatch inspect PID --watch DURATION`: samples one process for a while,
// shows progress, then prints the report, a chart of the footprint against
// ingress, and a verdict.
#pragma once

#include <chrono>
#include <iosfwd>

#include "inspect_command.h"

namespace lw::cli {

struct WatchOptions {
  std::chrono::milliseconds duration{0};
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds stall_after{60000};
};

// Returns kExitOk, kExitLeakFound, or kExitProcessExited when the process
// ended during the watch (after reporting what was seen); throws lw::Error.
int run_watch(const InspectOptions& inspect, const WatchOptions& watch, std::ostream& out, std::ostream& progress);

}  // namespace lw::cli
