#include "model/node_round.h"

#include <algorithm>
#include <set>
#include <span>
#include <tuple>

namespace lw {
namespace {

uint64_t consumed_bytes(const SocketRecord& r) {
  return r.bytes_received >= r.unread ? r.bytes_received - r.unread : 0;
}

using OwnerSpans = std::unordered_map<uint32_t, std::span<const SocketRecord>>;

// Each owner's records, which sort_by_owner made one contiguous span.
OwnerSpans spans_by_tgid(const std::vector<SocketRecord>& records) {
  OwnerSpans spans;
  for (auto it = records.begin(); it != records.end();) {
    auto end = std::find_if(it, records.end(), [&](const SocketRecord& r) { return r.tgid != it->tgid; });
    spans.emplace(it->tgid, std::span<const SocketRecord>(&*it, static_cast<size_t>(end - it)));
    it = end;
  }
  return spans;
}

std::span<const SocketRecord> records_of(const OwnerSpans& spans, pid_t pid) {
  const auto it = spans.find(static_cast<uint32_t>(pid));
  return it == spans.end() ? std::span<const SocketRecord>{} : it->second;
}

ProcessKey key_of(const TargetProcess& p) { return ProcessKey{p.info.pid, p.info.stat.start_time}; }

// Whom a closed socket's bytes belong to, when the ledger never saw it.
std::optional<SocketOwner> close_event_owner(const CloseEvent& e, const std::map<pid_t, const TargetProcess*>& by_pid,
                                             const std::unordered_map<uint64_t, std::string>& cgroup_by_v2_id) {
  if (const auto it = by_pid.find(static_cast<pid_t>(e.tgid)); e.tgid != 0 && it != by_pid.end()) {
    return SocketOwner{key_of(*it->second), it->second->cgroup};
  }
  if (const auto it = cgroup_by_v2_id.find(e.cgroup_id); it != cgroup_by_v2_id.end()) {
    return SocketOwner{std::nullopt, it->second};
  }
  return std::nullopt;
}

// A TCP connection's record and the targeted process its bytes go to.
struct Holder {
  const SocketRecord* record;
  const TargetProcess* process;
};

// Calls credit(holder) once for each TCP connection the targets hold. The
// kernel does not say which of the processes holding a socket read its
// bytes. The rule: the one that started first, which opened it (fork()
// hands descriptors from parent to child); once it lets go, the next one.
// Only sockets that may have several holders wait in a map for that choice.
void for_each_credited_holder(const std::vector<SocketRecord>& records,
                              const std::map<pid_t, const TargetProcess*>& by_pid,
                              const std::function<void(const Holder&)>& credit) {
  const auto started_before = [](const TargetProcess& a, const TargetProcess& b) {
    return std::tie(a.info.stat.start_time, a.info.pid) < std::tie(b.info.stat.start_time, b.info.pid);
  };
  std::unordered_map<uint64_t, Holder> shared;
  for (const auto& [tgid, held] : spans_by_tgid(records)) {
    const auto owner = by_pid.find(static_cast<pid_t>(tgid));
    if (owner == by_pid.end()) continue;
    for (const auto& r : held) {
      if (!is_tcp(r) || is_tcp_listener(r)) continue;
      const Holder candidate{&r, owner->second};
      if (only_descriptor(r)) {
        credit(candidate);
        continue;
      }
      const auto [it, added] = shared.try_emplace(r.inode, candidate);
      if (!added && started_before(*owner->second, *it->second.process)) it->second = candidate;
    }
  }
  for (const auto& [inode, holder] : shared) credit(holder);
}

ProcessSample process_sample(const TargetProcess& p, std::span<const SocketRecord> records, const StallRule& stalls,
                             size_t top_endpoints) {
  ProcessSample s;
  s.key = key_of(p);
  s.comm = p.info.status.name.value_or("");
  s.cgroup = p.cgroup;
  s.pod = p.pod;
  s.resident = resident_of(p.info.status);
  s.open_fds = p.info.open_fds;
  // The agent exports endpoints, not single sockets.
  s.sockets = summarize_sockets(records, top_endpoints, 0, &stalls);
  return s;
}

}  // namespace

void sort_by_owner(std::vector<SocketRecord>& records) {
  const auto by_tgid = [](const SocketRecord& a, const SocketRecord& b) { return a.tgid < b.tgid; };
  // The iterator's records come in this order but for a leader's exit; a
  // stable sort of a million would need a 64 MiB buffer for nothing.
  if (!std::is_sorted(records.begin(), records.end(), by_tgid))
    std::stable_sort(records.begin(), records.end(), by_tgid);
}

uint64_t credit_ingress(IngressLedger& ledger, const RoundInputs& in) {
  std::map<pid_t, const TargetProcess*> by_pid;
  for (const auto& p : in.processes) by_pid.emplace(p.info.pid, &p);

  // Live sockets first, then the closes: a close credits only what arrived
  // after the socket's last sighting.
  for_each_credited_holder(in.records, by_pid, [&](const Holder& holder) {
    const SocketRecord& r = *holder.record;
    ledger.observe(r.inode, r.bytes_received, consumed_bytes(r),
                   SocketOwner{key_of(*holder.process), holder.process->cgroup});
  });
  uint64_t unattributed = 0;
  for (const auto& e : in.close_events) {
    if (ledger.knows(e.inode)) {
      ledger.close(e.inode, e.bytes_received, e.bytes_consumed, SocketOwner{});  // its owner is known already
    } else if (const auto owner = close_event_owner(e, by_pid, in.cgroup_by_v2_id)) {
      ledger.close(e.inode, e.bytes_received, e.bytes_consumed, *owner);
    } else {
      unattributed += e.bytes_received;
    }
  }
  ledger.end_round();

  std::set<ProcessKey> alive;
  std::set<std::string> alive_cgroups;
  for (const auto& p : in.processes) {
    alive.insert(key_of(p));
    alive_cgroups.insert(p.cgroup);
  }
  ledger.retain(alive, alive_cgroups);
  return unattributed;
}

void count_round(AgentHealth& health, const RoundInputs& in, uint64_t unattributed_received_bytes,
                 const IngressLedger& ledger) {
  health.snapshots++;
  health.sockets_seen = in.records.size();
  health.processes_seen = in.processes.size();
  health.processes_exited_mid_snapshot += in.processes_exited;
  health.close_events += in.close_events.size();
  health.untracked_sockets = ledger.untracked_sockets();
  health.unattributed_received_bytes += unattributed_received_bytes;
}

NodeSample assemble_node_sample(const RoundInputs& in, const IngressLedger& ledger, const StallRule& stalls,
                                size_t top_endpoints) {
  NodeSample sample;
  const auto spans = spans_by_tgid(in.records);
  // A cgroup of one process has that process's summary; others are
  // summarized again from all their records.
  std::map<std::string, std::vector<std::span<const SocketRecord>>> cgroup_records;
  for (const auto& p : in.processes) {
    const auto records = records_of(spans, p.info.pid);
    ProcessSample s = process_sample(p, records, stalls, top_endpoints);
    s.ingress = ledger.process_totals(s.key);

    CgroupSample& c = sample.cgroups[s.cgroup];
    c.path = s.cgroup;
    if (const auto pod = in.cgroup_pods.find(s.cgroup); pod != in.cgroup_pods.end()) c.pod = pod->second;
    if (c.processes++ == 0) c.sockets = s.sockets;
    cgroup_records[s.cgroup].push_back(records);
    sample.processes.push_back(std::move(s));
  }
  for (auto& [path, c] : sample.cgroups) {
    if (c.processes > 1) c.sockets = summarize_socket_parts(cgroup_records[path], top_endpoints, 0, &stalls);
    c.ingress = ledger.cgroup_totals(path);
    if (const auto it = in.cgroup_memory.find(path); it != in.cgroup_memory.end()) c.memory = it->second;
  }
  std::stable_sort(sample.processes.begin(), sample.processes.end(),
                   [](const auto& a, const auto& b) { return a.footprint().value_or(0) > b.footprint().value_or(0); });
  if (in.every_socket) sample.held_sockets = summarize_sockets(in.records, 0, 0);
  sample.node = in.node;
  return sample;
}

void take_closes_between_rounds(RoundState& state, std::span<const CloseEvent> events, const LookUpProcess& look_up) {
  CloseBacklog& closes = state.closes;
  const auto owner_of = [&](const CloseEvent& e) {
    if (e.tgid == 0) return ProcessLookup{};
    const auto pid = static_cast<pid_t>(e.tgid);
    auto it = closes.processes.find(pid);
    if (it == closes.processes.end()) it = closes.processes.emplace(pid, look_up(pid)).first;
    return it->second;
  };
  for (const auto& e : events) {
    if (state.ledger.knows(e.inode)) {
      state.ledger.close(e.inode, e.bytes_received, e.bytes_consumed, SocketOwner{});  // its owner is known already
      state.health.close_events++;
      continue;
    }
    const ProcessLookup owner = owner_of(e);
    if (owner.kind == ProcessLookup::gone && closes.waiting.size() < CloseBacklog::kMaxWaiting) {
      closes.waiting.push_back(e);  // counted by the round that takes it
      continue;
    }
    state.health.close_events++;
    if (owner.kind == ProcessLookup::target) {
      state.ledger.close(e.inode, e.bytes_received, e.bytes_consumed, owner.owner);
    } else if (owner.kind == ProcessLookup::gone) {
      state.health.close_backlog_full++;
    }
    // A process that is not a target: its cgroup may be a target's, but its
    // bytes are not.
  }
}

NodeSample account_round(RoundState& state, const RoundInputs& inputs, double now, double stall_after_seconds,
                         size_t top_endpoints) {
  const uint64_t unattributed = credit_ingress(state.ledger, inputs);
  state.closes.processes.clear();
  for (const auto& p : inputs.processes) {
    state.closes.processes.emplace(p.info.pid, ProcessLookup{ProcessLookup::target, SocketOwner{key_of(p), p.cgroup}});
  }
  state.stream_positions.update(now, inputs.records);
  NodeSample sample =
      assemble_node_sample(inputs, state.ledger, StallRule{state.stream_positions, stall_after_seconds}, top_endpoints);
  count_round(state.health, inputs, unattributed, state.ledger);
  sample.health = state.health;
  return sample;
}

}  // namespace lw
