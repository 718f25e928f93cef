// One agent round, from what it read to the NodeSample it publishes. The
// state that lives across rounds (the ingress ledger, read positions, the
// agent's health) is updated by its owner, NodeSampler, through the
// functions here; assembling the sample itself only reads it, so it is
// tested on synthetic inputs without a kernel.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "collect/cgroup.h"
#include "collect/node_stats.h"
#include "collect/pod_identity.h"
#include "collect/procfs.h"
#include "collect/socket_close.h"
#include "model/ingress_ledger.h"
#include "model/node_sample.h"
#include "model/socket_record.h"
#include "model/stream_positions.h"

namespace lw {

// A process the round reports on, with its memory cgroup resolved.
struct TargetProcess {
  ProcessInfo info;
  std::string cgroup;  // memory cgroup path; empty when none was found
  PodIdentity pod;
};

// Everything one round read, before any accounting.
struct RoundInputs {
  std::vector<SocketRecord> records;  // every socket on the node, sorted by owner (sort_by_owner)
  bool every_socket = true;           // false when the pass read only the --pid targets' sockets
  std::vector<CloseEvent> close_events;
  std::vector<TargetProcess> processes;
  std::map<std::string, std::optional<CgroupMemory>> cgroup_memory;  // by path
  std::map<std::string, PodIdentity> cgroup_pods;                    // by path
  std::unordered_map<uint64_t, std::string> cgroup_by_v2_id;         // socket cgroup id -> memory cgroup path
  NodeStats node;
  uint64_t processes_exited = 0;      // listed in /proc but gone before they could be read
  uint64_t processes_unreadable = 0;  // there, but their files could not be parsed: skipped
};

// Sorts records by owner (tgid), so each process's sockets are one span.
void sort_by_owner(std::vector<SocketRecord>& records);

// Credits the round's live sockets, then its closes, to the targeted
// processes and their cgroups (a socket several of them hold: to the one
// that started first); forgets processes and cgroups that are gone. Returns the
// bytes of closed sockets whose owner and cgroup were both unknown.
uint64_t credit_ingress(IngressLedger& ledger, const RoundInputs& inputs);

// The round's counts, added to the agent's health: its one writer is the
// sampler, after each round.
void count_round(AgentHealth& health, const RoundInputs& inputs, uint64_t unattributed_received_bytes,
                 const IngressLedger& ledger);

// Pure: per process and per cgroup, from the inputs and what the ledger and
// the read positions say after this round's updates. Health is left empty.
NodeSample assemble_node_sample(const RoundInputs& inputs, const IngressLedger& ledger, const StallRule& stalls,
                                size_t top_endpoints);

// What a PID the last round did not see turns out to be, between rounds.
struct ProcessLookup {
  enum Kind { target, not_target, gone } kind = gone;  // gone: exited, or unreadable
  SocketOwner owner;                                   // a target's
};
using LookUpProcess = std::function<ProcessLookup(pid_t)>;

// Close events drained between rounds, so that the kernel's ring buffer
// never has to hold a whole interval's closes.
struct CloseBacklog {
  // Events whose owner only the next round can tell (a process gone before
  // it could be looked up, or none recorded); beyond this many (18 MiB),
  // they are counted and dropped.
  static constexpr size_t kMaxWaiting = 1u << 18;
  std::vector<CloseEvent> waiting;
  // The last round's targets, and the processes looked up since, by PID.
  std::unordered_map<pid_t, ProcessLookup> processes;
};

// What lives across rounds, owned by the sampler.
struct RoundState {
  IngressLedger ledger;
  StreamPositions stream_positions;
  AgentHealth health;
  CloseBacklog closes;
};

// Between rounds: credits at once the closes of sockets the ledger tracks
// and of targeted processes (those of the last round, and those born since,
// looked up once each with `look_up`); skips those of processes that are
// not targets; keeps the others for the next round (RoundInputs::
// close_events takes them first).
void take_closes_between_rounds(RoundState& state, std::span<const CloseEvent> events, const LookUpProcess& look_up);

// One round's accounting, in its order: credit the ledger, move the read
// positions (at `now`, seconds), count the round, then assemble the sample
// (health copied in). `inputs.records` must be sorted by owner.
NodeSample account_round(RoundState& state, const RoundInputs& inputs, double now, double stall_after_seconds,
                         size_t top_endpoints);

}  // namespace lw
