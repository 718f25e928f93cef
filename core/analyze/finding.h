// What the analysis concludes about one subject: a named leak pattern, how
// sure and how urgent, and where (the endpoints that hold it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lw {

// One per file in analyze/kinds/; analyze/finding_kinds.cpp lists them all.
enum class FindingKind {
  socket_receive_backlog,  // data arrives faster than it is read, or readers stalled
  socket_send_backlog,     // data queued for peers that do not take it
  connection_leak,         // open connections keep growing
  close_wait_leak,         // peers closed, the process never did
  heap_growth,             // anonymous memory grows and sockets do not explain it
  fd_leak,                 // non-socket file descriptors keep growing
  listen_backlog,          // connections wait to be accepted: too few workers
};
// The kind's name in metrics, JSON and alerts: "socket-receive-backlog".
std::string_view to_string(FindingKind kind);

enum class Severity { info, warning, critical };
std::string_view to_string(Severity severity);

struct Contributor {
  std::string endpoint;
  uint64_t connections = 0;
  uint64_t queued_bytes = 0;
  std::optional<double> stalled_seconds;  // since the read position last moved
};

struct Finding {
  FindingKind kind;
  Severity severity = Severity::warning;
  double confidence = 0;                      // 0..1
  double growth_per_second = 0;               // bytes/s; connections/s or fds/s for those kinds
  double share_of_growth = 0;                 // of the footprint's growth this explains, 0..1
  std::optional<double> ingress_correlation;  // Pearson r of footprint vs cumulative ingress
  std::optional<double> seconds_to_limit;     // at the current footprint growth
  double window_seconds = 0;                  // the time the samples it rests on cover
  bool across_restarts = false;               // a cgroup's: seen in the lives of its recycled workers
  std::vector<Contributor> top_contributors;  // largest first
  std::string explanation;                    // one plain sentence
  std::string suggested_fix;                  // one plain sentence
};

}  // namespace lw
