// `leakwatch inspect PID`: one snapshot of one process, as text or JSON.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <iosfwd>
#include <string>

#include "collect/host_paths.h"
#include "collect/socket_source.h"

namespace lw::cli {

struct InspectOptions {
  std::string pid;  // as typed: validated by parse_pid
  bool json = false;
  size_t top = 10;
  HostPaths paths;
  BackendChoice backend;
};

// A positive decimal PID, or lw::Error(usage) saying what is wrong.
pid_t parse_pid(const std::string& text);

// The socket backend the options chose, and why `auto` fell back (to be
// said on stderr in one line once the command has something to show).
OpenedSource open_sockets(const InspectOptions& options);
void say_fallback(const OpenedSource& opened);

// Writes the report to out and returns an exit code; throws lw::Error.
int run_inspect(const InspectOptions& options, std::ostream& out);

}  // namespace lw::cli
