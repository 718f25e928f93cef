// One sampling round of the whole node: a single socket iterator pass, the
// close events since the last round, /proc and cgroup reads, assembled into
// a NodeSample. The I/O (NodeSampler) is split from the assembly
// (assemble_node_sample) so the accounting can be tested without a kernel.
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <span>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include "leakwatch/analysis.h"
#include "leakwatch/cgroup_namespace.h"
#include "leakwatch/close_events.h"
#include "leakwatch/host_paths.h"
#include "leakwatch/ingress_ledger.h"
#include "leakwatch/node_sample.h"
#include "leakwatch/pod_identity.h"
#include "leakwatch/procfs.h"
#include "leakwatch/socket_iterator.h"

namespace lw {

// Which processes the agent reports on; an empty criterion matches all.
struct TargetFilter {
  std::vector<pid_t> pids;
  std::optional<std::regex> comm;
  std::string cgroup_prefix;
  bool matches(pid_t pid, const std::string& comm_name, const std::string& cgroup) const;
};

// A process the round reports on, with its memory cgroup resolved.
struct TargetProcess {
  ProcessInfo info;
  std::string cgroup;  // memory cgroup path; empty when none was found
  PodIdentity pod;
};

// Everything one round read, before any accounting.
struct RoundInputs {
  std::vector<SocketRecord> records;   // every socket on the node
  std::vector<CloseEvent> close_events;
  std::vector<TargetProcess> processes;
  std::map<std::string, std::optional<CgroupMemory>> cgroup_memory;  // by path
  std::map<std::string, PodIdentity> cgroup_pods;                    // by path
  std::unordered_map<uint64_t, std::string> cgroup_by_v2_id;         // socket cgroup id -> memory cgroup path
  NodeStats node;
  uint64_t processes_exited = 0;  // listed in /proc but gone before they could be read
};

// Read positions of each process's sockets across rounds: a socket holding
// unread data whose read position (copied_seq) stands still is a stalled
// reader, the mark of an abandoned response or a pooled stream.
class ReaderStallTracker {
 public:
  explicit ReaderStallTracker(double stall_after_seconds) : stall_after_(stall_after_seconds) {}
  // Fills the stalled_* fields of the summary's endpoint groups.
  void update(const ProcessKey& process, double now, std::span<const SocketRecord> records, SocketSummary& summary);
  void retain(const std::set<ProcessKey>& alive);

 private:
  double stall_after_;
  std::map<ProcessKey, ReadPositionTracker> trackers_;
};

// What one round is assembled with, besides its inputs: state that lives
// across rounds.
struct RoundState {
  IngressLedger& ledger;
  AgentHealth& health;
  ReaderStallTracker& stalls;
  double now = 0;  // seconds, monotonic
};

// Pure: credits the ledger, tracks read positions, aggregates per process
// and per cgroup.
NodeSample assemble_node_sample(RoundInputs&& inputs, RoundState state, size_t top_endpoints);

class NodeSampler {
 public:
  NodeSampler(SocketIterator& sockets, CloseEventSource& close_events, HostPaths paths, TargetFilter filter,
              size_t top_endpoints, double stall_after_seconds = 60);
  // One round. Throws lw::Error when the socket pass itself fails.
  NodeSample sample();
  // Where this process's cgroup namespace is rooted, found at construction.
  const CgroupNamespace& cgroup_namespace() const { return cgroup_ns_; }

 private:
  RoundInputs read_round();
  void read_processes(RoundInputs& round);
  std::vector<SocketRecord> read_sockets();

  SocketIterator& sockets_;
  CloseEventSource& close_events_;
  HostPaths paths_;
  CgroupNamespace cgroup_ns_;
  PodIdentityResolver pods_;
  TargetFilter filter_;
  size_t top_endpoints_;
  IngressLedger ledger_;
  AgentHealth health_;
  ReaderStallTracker stalls_;
};

}  // namespace lw
