// One sampling interval of the whole node, as the agent publishes it:
// immutable once built, read by the exporter at scrape time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collect/cgroup.h"
#include "collect/node_stats.h"
#include "collect/pod_identity.h"
#include "model/footprint.h"
#include "model/socket_summary.h"

namespace lw {

// A process across time: the PID alone may be reused by another process.
struct ProcessKey {
  pid_t pid = 0;
  uint64_t start_time = 0;  // clock ticks since boot, from /proc/PID/stat
  auto operator<=>(const ProcessKey&) const = default;
};

// Monotonic TCP byte counters, kept across socket closes and restarts.
struct IngressTotals {
  uint64_t received = 0;  // bytes that arrived (tcp_sock.bytes_received)
  uint64_t consumed = 0;  // bytes the application read
};

struct ProcessSample {
  ProcessKey key;
  std::string comm;
  std::string cgroup;  // memory cgroup path; empty when unknown
  PodIdentity pod;     // empty outside Kubernetes pods
  ResidentMemory<uint64_t> resident;
  std::optional<uint64_t> open_fds;
  SocketSummary sockets;  // endpoints cut to the configured top N
  IngressTotals ingress;
  std::optional<uint64_t> footprint() const {
    return footprint_bytes(resident, sockets.receive_queue_bytes + sockets.send_queue_bytes);
  }
};

struct CgroupSample {
  std::string path;
  PodIdentity pod;                     // of the container or pod the cgroup is; empty when neither
  std::optional<CgroupMemory> memory;  // nullopt when its files are unreadable
  uint64_t processes = 0;
  // Its processes' sockets, a socket several of them hold counted once.
  SocketSummary sockets;
  IngressTotals ingress;
};

// Cumulative histogram of durations in seconds, Prometheus-style.
struct DurationHistogram {
  static constexpr double kBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  uint64_t counts[std::size(kBounds)] = {};  // cumulative: observations <= bound
  uint64_t total = 0;
  double sum = 0;
  void observe(double seconds) {
    for (size_t i = 0; i < std::size(kBounds); ++i) counts[i] += seconds <= kBounds[i] ? 1 : 0;
    total++;
    sum += seconds;
  }
};

// One source the agent reads each round (the socket pass, /proc, ...), the
// way node_exporter reports its collectors.
struct CollectorStatus {
  bool success = true;  // gauge: the last round read it
  double seconds = 0;   // gauge: how long the last round's read took
  uint64_t errors = 0;  // items skipped and counted, never the round: a process whose files cannot be parsed
};

// Counters about the agent's own work; monotonic unless said otherwise.
struct AgentHealth {
  std::map<std::string, CollectorStatus> collectors;  // by name: sockets, close_events, pods, processes, node
  DurationHistogram snapshot_seconds;                 // one sampling round, I/O and assembly
  uint64_t snapshots = 0;
  uint64_t snapshot_failures = 0;
  uint64_t sockets_seen = 0;    // gauge: sockets in the last snapshot
  uint64_t sockets_unseen = 0;  // gauge: socket fds the backend could not describe (netlink: other kinds, namespaces)
  uint64_t processes_seen = 0;  // gauge: targeted processes in the last snapshot
  uint64_t processes_exited_mid_snapshot = 0;
  uint64_t close_events = 0;
  uint64_t close_events_lost = 0;            // ring buffer full (from the kernel)
  uint64_t close_socket_buffer_full = 0;     // destroy notifications dropped at a full listener (from the kernel)
  uint64_t close_backlog_full = 0;           // drained between rounds, owner unknown, and no room to wait
  uint64_t owner_storage_full = 0;           // socket storage allocation failed (from the kernel)
  uint64_t program_recursion = 0;            // a close-event program skipped while it ran on that CPU (from the kernel)
  uint64_t untracked_sockets = 0;            // gauge: live sockets the full ingress ledger could not track
  uint64_t unattributed_received_bytes = 0;  // closed sockets whose owner and cgroup were unknown
};

struct NodeSample {
  std::chrono::system_clock::time_point taken_at;
  std::chrono::nanoseconds duration{0};
  std::vector<ProcessSample> processes;  // every targeted process, largest footprint first
  std::map<std::string, CgroupSample> cgroups;
  // Every socket a process on the node holds, in every network namespace,
  // targeted or not, each once; unknown when the pass read only the --pid
  // targets'. Endpoints are not grouped.
  std::optional<SocketSummary> held_sockets;
  NodeStats node;  // sockstat: some figures for the host's network namespace only
  AgentHealth health;
};

}  // namespace lw
