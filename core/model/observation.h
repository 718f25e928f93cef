// Samples as the analysis sees them: one Observation per subject (a process
// or a cgroup) per round, from the agent's NodeSample or `inspect --watch`.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "model/footprint.h"
#include "model/node_sample.h"
#include "model/socket_summary.h"

namespace lw {

// One sample of one subject. Memory in bytes; nullopt where unknown.
struct Observation {
  double time = 0;  // seconds, monotonic
  ResidentMemory<double> resident;
  double receive_queue_bytes = 0;
  double send_queue_bytes = 0;
  double unread_bytes = 0;
  double ingress_bytes_total = 0;  // cumulative TCP payload received (may reset: restart)
  double tcp_connections = 0;      // TCP sockets other than LISTEN
  double close_wait = 0;
  std::optional<double> idle_connections;  // TCP connections that received nothing for --stall-after
  std::optional<double> open_fds;
  double socket_fds = 0;                 // open fds that are sockets (a dup()ed socket twice)
  std::optional<double> memory_limit;    // the cgroup's limit, when it has one
  std::optional<double> memory_usage;    // the cgroup's usage
  std::vector<EndpointGroup> endpoints;  // top endpoints by queued bytes
  std::vector<ListenerQueue> listeners;  // TCP listeners, most waiting first

  std::optional<double> footprint() const { return footprint_bytes(resident, receive_queue_bytes + send_queue_bytes); }
};

// One sample standing for two consecutive ones (a long window thinned to a
// sample per slice): each number, time included, is `op` of the earlier's
// and the later's (their weighted mean, their maximum), or the one known
// where the other is not; endpoints and listeners are the later one's.
Observation combine_samples(const Observation& earlier, const Observation& later,
                            const std::function<double(double, double)>& op);

// One process at `time` (seconds, monotonic); cgroup may be null.
Observation observe_process(const ProcessSample& process, const CgroupSample* cgroup, double time);

// A whole cgroup (container): its processes' memory and descriptors summed,
// its sockets each counted once however many of them hold it, and its own
// ingress counter, which outlives recycled workers.
Observation observe_cgroup(const CgroupSample& cgroup, const std::vector<const ProcessSample*>& members, double time,
                           size_t top_endpoints);

}  // namespace lw
