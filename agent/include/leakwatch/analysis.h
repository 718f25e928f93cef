// Leak diagnosis on sample series: growth rates, ingress correlation and
// named findings. Pure: it needs no BPF and no /proc, so it is tested on
// synthetic series as well as live. Samples come from `inspect --watch` or
// from the agent; each subject (a process or a cgroup) has its own window.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lw {

// Per remote endpoint, what one sample saw.
struct EndpointObservation {
  std::string endpoint;                // "10.0.0.7:8000", or "10.0.0.7->:8080" for inbound
  uint64_t connections = 0;
  uint64_t close_wait = 0;             // of those, in CLOSE_WAIT
  uint64_t receive_queue_bytes = 0;
  uint64_t send_queue_bytes = 0;
  uint64_t unread_bytes = 0;
  // Sockets of this endpoint holding unread data whose read position
  // (copied_seq) has not moved for at least AnalysisConfig::stall_after.
  uint64_t stalled_sockets = 0;
  uint64_t stalled_unread_bytes = 0;
  double max_stalled_seconds = 0;      // longest time a read position stood still
};

// One sample of one subject. Memory in bytes; nullopt where unknown.
struct Observation {
  double time = 0;  // seconds, monotonic
  std::optional<double> rss_anon, rss_file, rss_shmem;
  double receive_queue_bytes = 0;
  double send_queue_bytes = 0;
  double unread_bytes = 0;
  double ingress_bytes_total = 0;   // cumulative TCP payload received (may reset: restart)
  double tcp_connections = 0;       // TCP sockets other than LISTEN
  double close_wait = 0;
  std::optional<double> open_fds;
  double socket_fds = 0;            // sockets among the open fds
  std::optional<double> memory_limit;  // the cgroup's limit, when it has one
  std::optional<double> memory_usage;  // the cgroup's usage
  std::vector<EndpointObservation> endpoints;  // top endpoints by queued bytes
};

enum class FindingKind {
  socket_receive_backlog,  // data arrives faster than it is read, or readers stalled
  socket_send_backlog,     // data queued for peers that do not take it
  connection_leak,         // open connections keep growing
  close_wait_leak,         // peers closed, the process never did
  heap_growth,             // anonymous memory grows and sockets do not explain it
  fd_leak,                 // non-socket file descriptors keep growing
};
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
  double confidence = 0;             // 0..1
  double growth_per_second = 0;      // bytes/s; connections/s or fds/s for those kinds
  double share_of_growth = 0;        // of the footprint's growth this explains, 0..1
  std::optional<double> ingress_correlation;  // Pearson r of footprint vs cumulative ingress
  std::optional<double> seconds_to_limit;     // at the current footprint growth
  std::vector<Contributor> top_contributors;  // largest first
  std::string explanation;           // one plain sentence
  std::string suggested_fix;         // one plain sentence
};

struct AnalysisConfig {
  double window_seconds = 300;      // samples older than this are dropped
  size_t min_samples = 6;           // fewer: no verdict yet
  double stall_after_seconds = 60;  // a read position still this long is stalled
  // A trend must be at least this steep and this steady to be a finding.
  double min_memory_growth_bytes_per_second = 64 * 1024;
  double min_count_growth_per_second = 0.05;  // connections, fds
  // A count must also have risen by this many over the window: more than a
  // busy client's in-flight connections (or their transient CLOSE_WAITs) can
  // ramp up by while it starts.
  double min_count_rise = 10;
  double min_steadiness = 0.6;      // Kendall's tau, clamped: how consistently later samples lie above earlier ones (0..1)
};

// Robust slope of y over t (Theil-Sen: the median of pairwise slopes);
// nullopt with fewer than two distinct times.
std::optional<double> theil_sen_slope(const std::vector<double>& t, const std::vector<double>& y);
// Pearson correlation; nullopt when either series is constant or too short.
std::optional<double> pearson(const std::vector<double>& x, const std::vector<double>& y);

// The sliding window of one subject and the findings it supports.
class SubjectWindow {
 public:
  explicit SubjectWindow(AnalysisConfig config) : config_(config) {}
  // Samples must come in time order; an older or equal time is ignored.
  void add(const Observation& o);
  size_t samples() const { return samples_.size(); }
  double span_seconds() const;
  // Empty until min_samples samples are in; never throws.
  std::vector<Finding> findings() const;

 private:
  AnalysisConfig config_;
  std::deque<Observation> samples_;
  double ingress_offset_ = 0;  // added after a counter reset, so ingress stays cumulative
};

// Tracks each socket's read position between samples, to find stalled
// readers: input the sockets of one sample, output per endpoint how many
// hold unread data with a read position that has stood still.
class ReadPositionTracker {
 public:
  struct Socket {
    uint64_t inode;
    std::string endpoint;
    uint32_t copied_seq;
    uint64_t unread_bytes;
  };
  // Updates the tracker with one sample at `time` and fills the stalled_*
  // fields of `endpoints` (matched by endpoint name). Forgets closed sockets.
  void update(double time, const std::vector<Socket>& sockets, double stall_after_seconds,
              std::vector<EndpointObservation>& endpoints);

 private:
  struct Position {
    uint32_t copied_seq;
    double since;  // when copied_seq last changed (or was first seen, or had nothing unread)
  };
  std::map<uint64_t, Position> positions_;
};

}  // namespace lw
