#include "inspect_command.h"

#include <charconv>
#include <iostream>

#include <fmt/format.h>

#include "collect/process_inspector.h"
#include "output/report_json.h"
#include "report_text.h"
#include "util/error.h"
#include "util/exit_codes.h"
#include "util/json_text.h"

namespace lw::cli {

pid_t parse_pid(const std::string& text) {
  long long value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw Error(ErrorKind::usage, fmt::format("'{}' is not a PID: give the process ID as a positive number, "
                                              "e.g. leakwatch inspect 1234",
                                              text));
  }
  // The kernel's PID_MAX_LIMIT is 2^22.
  if (value <= 0 || value > (1 << 22)) {
    throw Error(ErrorKind::usage, fmt::format("{} is not a valid PID: PIDs are between 1 and 4194304", text));
  }
  return static_cast<pid_t>(value);
}

OpenedSource open_sockets(const InspectOptions& options) { return open_socket_source(options.backend, options.paths); }

void say_fallback(const OpenedSource& opened) {
  if (!opened.fallback_reason.empty()) std::cerr << "leakwatch: " << opened.fallback_reason << "\n";
}

int run_inspect(const InspectOptions& options, std::ostream& out) {
  const pid_t pid = parse_pid(options.pid);
  const auto opened = open_sockets(options);
  // A failure says only what failed: one line.
  const ProcessReport report = inspect_process(*opened.source, options.paths, pid, options.top);
  say_fallback(opened);
  if (options.json) {
    out << json_text(to_json(report), 2) << "\n";
  } else {
    out << render_text(report);
  }
  return kExitOk;
}

}  // namespace lw::cli
