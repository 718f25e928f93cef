#include "collect/node_sampler.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "collect/node_stats.h"
#include "util/error.h"
#include "util/log.h"

namespace lw {

bool TargetFilter::matches(pid_t pid, const std::string& comm_name, const std::string& cgroup) const {
  if (!pids.empty() && std::find(pids.begin(), pids.end(), pid) == pids.end()) return false;
  if (comm && !std::regex_search(comm_name, *comm)) return false;
  return cgroup_prefix.empty() || cgroup.starts_with(cgroup_prefix);
}

NodeSampler::NodeSampler(SocketSource& sockets, CloseEventSource* close_events, HostPaths paths, TargetFilter filter,
                         size_t top_endpoints, double stall_after_seconds)
    : sockets_(sockets),
      close_events_(close_events),
      paths_(std::move(paths)),
      cgroup_ns_(CgroupNamespace::discover(paths_, getpid())),
      pods_(paths_.log),
      unix_listeners_(paths_),
      filter_(std::move(filter)),
      top_endpoints_(top_endpoints),
      stall_after_seconds_(stall_after_seconds) {}

// With a PID filter, targeted passes over those processes are far cheaper
// than a pass over the whole machine.
std::vector<SocketRecord> NodeSampler::read_sockets() {
  if (filter_.pids.empty()) return sockets_.all();
  std::vector<SocketRecord> records;
  for (const pid_t pid : filter_.pids) {
    try {
      const auto own = sockets_.for_process(pid);
      records.insert(records.end(), own.begin(), own.end());
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::process_exited) throw;
    }
  }
  return records;
}

namespace {

enum class TargetRead { target, other, dead, exited, unreadable };

// One process into `round` when it is a target.
TargetRead read_target(const HostPaths& paths, pid_t pid, const TargetFilter& filter, const CgroupNamespace& cgroup_ns,
                       const PodIdentityResolver& pods, RoundInputs& round) {
  // A PID the filter does not list needs no /proc reads to be told apart
  // (between rounds, every PID that closed a connection is looked up).
  if (!filter.pids.empty() && std::find(filter.pids.begin(), filter.pids.end(), pid) == filter.pids.end()) {
    return TargetRead::other;
  }
  TargetProcess p;
  try {
    p.info = read_process(paths, pid);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::no_such_process || e.kind() == ErrorKind::process_exited) return TargetRead::exited;
    log::debug("skipping PID {}: {}", pid, e.what());
    return TargetRead::unreadable;
  }
  if (p.info.stat.is_kernel_thread()) return TargetRead::other;
  if (!p.info.alive()) return TargetRead::dead;
  cgroup_ns.to_host_paths(p.info.cgroups);
  const auto location = locate_memory_cgroup(paths, p.info.cgroups);
  p.cgroup = location ? location->path : "";
  if (!filter.matches(pid, p.info.status.name.value_or(""), p.cgroup)) return TargetRead::other;
  if (location && !round.cgroup_memory.contains(p.cgroup)) {
    round.cgroup_memory.emplace(p.cgroup, read_cgroup_memory(*location));
    round.cgroup_pods.emplace(p.cgroup, pods.resolve(p.cgroup));
  }
  p.pod = pods.resolve(p.info.cgroups);
  if (const auto id = cgroup_v2_id(paths, p.info.cgroups)) round.cgroup_by_v2_id.emplace(*id, p.cgroup);
  round.processes.push_back(std::move(p));
  return TargetRead::target;
}

}  // namespace

void read_target_processes(const HostPaths& paths, const std::vector<pid_t>& pids, const TargetFilter& filter,
                           const CgroupNamespace& cgroup_ns, const PodIdentityResolver& pods, RoundInputs& round) {
  for (const pid_t pid : pids) {
    switch (read_target(paths, pid, filter, cgroup_ns, pods, round)) {
      case TargetRead::exited: round.processes_exited++; break;
      case TargetRead::unreadable: round.processes_unreadable++; break;
      default: break;
    }
  }
}

template <typename Read>
void NodeSampler::collect(const std::string& name, Read&& read) {
  CollectorStatus& status = state_.health.collectors[name];
  const auto start = std::chrono::steady_clock::now();
  const auto finish = [&](bool success) {
    status.success = success;
    status.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  try {
    read();
  } catch (const Error&) {
    finish(false);
    throw;
  }
  finish(true);
}

RoundInputs NodeSampler::read_round() {
  RoundInputs round;
  collect("sockets", [&] {
    round.records = read_sockets();
    round.every_socket = filter_.pids.empty();
    sort_by_owner(round.records);
  });
  // After the pass: a socket that closed after it was seen is credited the
  // rest of its bytes; one that closed before was never seen and is credited
  // all of them. Closes whose owner is known are credited now (the ledger
  // keeps a socket's largest counters, so the order against this round's
  // sightings does not matter); the others wait for this round's processes.
  if (close_events_) {
    collect("close_events", [&] {
      drain_closes();
      round.close_events = std::exchange(state_.closes.waiting, {});
    });
  }
  collect("pods", [&] { pods_.refresh(); });
  collect("processes", [&] {
    read_target_processes(paths_, filter_.pids.empty() ? list_pids(paths_) : filter_.pids, filter_, cgroup_ns_, pods_,
                          round);
  });
  state_.health.collectors["processes"].errors += round.processes_unreadable;
  collect("node", [&] { round.node = read_node_stats(paths_); });
  return round;
}

void NodeSampler::drain_closes() {
  if (!close_events_) return;
  std::vector<CloseEvent> events;
  close_events_->drain(events);
  take_closes_between_rounds(state_, events, [&](pid_t pid) {
    RoundInputs one;
    switch (read_target(paths_, pid, filter_, cgroup_ns_, pods_, one)) {
      case TargetRead::target: {
        const TargetProcess& p = one.processes.front();
        return ProcessLookup{ProcessLookup::target, SocketOwner{ProcessKey{pid, p.info.stat.start_time}, p.cgroup}};
      }
      case TargetRead::other: return ProcessLookup{ProcessLookup::not_target, {}};
      default: return ProcessLookup{ProcessLookup::gone, {}};
    }
  });
}

NodeSample NodeSampler::sample() {
  const auto start = std::chrono::steady_clock::now();
  RoundInputs round;
  try {
    round = read_round();
  } catch (const Error&) {
    state_.health.snapshot_failures++;
    throw;
  }
  const double now = std::chrono::duration<double>(start.time_since_epoch()).count();
  NodeSample s = account_round(state_, round, now, stall_after_seconds_, top_endpoints_);
  unix_listeners_.name(s);
  const auto gaps = sockets_.gaps();
  state_.health.sockets_unseen = gaps.unseen_sockets;
  state_.health.collectors["sockets"].errors += gaps.unreadable_processes;
  if (close_events_) {
    const auto kernel = close_events_->counters();
    state_.health.close_events_lost = kernel.lost;
    state_.health.close_socket_buffer_full = kernel.socket_buffer_full;
    state_.health.owner_storage_full = kernel.owner_storage_full;
    state_.health.program_recursion = kernel.recursion_misses;
  }
  s.taken_at = std::chrono::system_clock::now();
  s.duration = std::chrono::steady_clock::now() - start;
  state_.health.snapshot_seconds.observe(std::chrono::duration<double>(s.duration).count());
  s.health = state_.health;
  return s;
}

}  // namespace lw
