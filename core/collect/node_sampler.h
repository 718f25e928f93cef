// One sampling round of the whole node: a single socket iterator pass, the
// close events since the last round, /proc and cgroup reads. NodeSampler does
// the I/O and owns the state that lives across rounds; the accounting is in
// model/node_round.h, tested without a kernel.
#pragma once

#include <sys/types.h>

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "collect/cgroup_namespace.h"
#include "collect/host_paths.h"
#include "collect/pod_identity.h"
#include "collect/socket_close.h"
#include "collect/socket_source.h"
#include "collect/unix_paths.h"
#include "model/ingress_ledger.h"
#include "model/node_round.h"
#include "model/node_sample.h"
#include "model/stream_positions.h"

namespace lw {

// Which processes the agent reports on; an empty criterion matches all.
struct TargetFilter {
  std::vector<pid_t> pids;
  std::optional<std::regex> comm;
  std::string cgroup_prefix;
  bool matches(pid_t pid, const std::string& comm_name, const std::string& cgroup) const;
};

// Reads the targeted processes among `pids` into `round`, with their memory
// cgroups and pods. A process that exited is counted in processes_exited,
// one whose files cannot be parsed in processes_unreadable; neither fails
// the round.
void read_target_processes(const HostPaths& paths, const std::vector<pid_t>& pids, const TargetFilter& filter,
                           const CgroupNamespace& cgroup_ns, const PodIdentityResolver& pods, RoundInputs& round);

class NodeSampler {
 public:
  // close_events may be null (the netlink backend without BPF): connections
  // that open and close between two rounds are then not counted.
  NodeSampler(SocketSource& sockets, CloseEventSource* close_events, HostPaths paths, TargetFilter filter,
              size_t top_endpoints, double stall_after_seconds = 60);
  // One round. Throws lw::Error when the socket pass or the listing of
  // /proc fails; health() then says which source failed.
  NodeSample sample();
  // Between rounds: takes the close events waiting in the kernel's ring
  // buffer (see take_closes_between_rounds). Never blocks.
  void drain_closes();
  const AgentHealth& health() const { return state_.health; }
  // Where this process's cgroup namespace is rooted, found at construction.
  const CgroupNamespace& cgroup_namespace() const { return cgroup_ns_; }

 private:
  RoundInputs read_round();
  std::vector<SocketRecord> read_sockets();
  // Runs one source's read, timed, into state_.health.collectors[name]; an
  // lw::Error marks it failed and is rethrown.
  template <typename Read>
  void collect(const std::string& name, Read&& read);

  SocketSource& sockets_;
  CloseEventSource* close_events_;
  HostPaths paths_;
  CgroupNamespace cgroup_ns_;
  PodIdentityResolver pods_;
  UnixListenerPaths unix_listeners_;
  TargetFilter filter_;
  size_t top_endpoints_;
  double stall_after_seconds_;
  RoundState state_;
};

}  // namespace lw
