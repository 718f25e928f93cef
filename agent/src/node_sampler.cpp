#include "leakwatch/node_sampler.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "leakwatch/error.h"
#include "leakwatch/node_stats.h"

namespace lw {
namespace {

constexpr uint8_t kTcpListen = 10;

uint64_t consumed_bytes(const SocketRecord& r) {
  return r.bytes_received >= r.unread ? r.bytes_received - r.unread : 0;
}

// Records sorted by owner, so each process's sockets are one contiguous span.
std::unordered_map<uint32_t, std::span<const SocketRecord>> spans_by_tgid(std::vector<SocketRecord>& records) {
  std::sort(records.begin(), records.end(),
            [](const SocketRecord& a, const SocketRecord& b) { return a.tgid < b.tgid; });
  std::unordered_map<uint32_t, std::span<const SocketRecord>> spans;
  for (auto it = records.begin(); it != records.end();) {
    auto end = std::find_if(it, records.end(), [&](const SocketRecord& r) { return r.tgid != it->tgid; });
    spans.emplace(it->tgid, std::span<const SocketRecord>(&*it, static_cast<size_t>(end - it)));
    it = end;
  }
  return spans;
}

// Whom a closed socket's bytes belong to, when the ledger never saw it.
std::optional<SocketOwner> close_event_owner(const CloseEvent& e, const std::map<pid_t, const TargetProcess*>& by_pid,
                                             const std::unordered_map<uint64_t, std::string>& cgroup_by_v2_id) {
  if (const auto it = by_pid.find(static_cast<pid_t>(e.tgid)); e.tgid != 0 && it != by_pid.end()) {
    return SocketOwner{ProcessKey{it->first, it->second->info.stat.start_time}, it->second->cgroup};
  }
  if (const auto it = cgroup_by_v2_id.find(e.cgroup_id); it != cgroup_by_v2_id.end()) {
    return SocketOwner{std::nullopt, it->second};
  }
  return std::nullopt;
}

ProcessSample process_sample(const TargetProcess& p, std::span<const SocketRecord> records, size_t top_endpoints) {
  ProcessSample s;
  s.key = ProcessKey{p.info.pid, p.info.stat.start_time};
  s.comm = p.info.status.name.value_or("");
  s.cgroup = p.cgroup;
  s.pod = p.pod;
  s.rss_anon = p.info.status.rss_anon;
  s.rss_file = p.info.status.rss_file;
  s.rss_shmem = p.info.status.rss_shmem;
  s.open_fds = p.info.open_fds;
  // The agent exports endpoints, not single sockets.
  s.sockets = summarize_sockets(records, top_endpoints, 0);
  return s;
}

}  // namespace

std::optional<uint64_t> ProcessSample::footprint() const {
  if (!rss_anon || !rss_file || !rss_shmem) return std::nullopt;
  return *rss_anon + *rss_file + *rss_shmem + sockets.receive_queue_bytes + sockets.send_queue_bytes;
}

bool TargetFilter::matches(pid_t pid, const std::string& comm_name, const std::string& cgroup) const {
  if (!pids.empty() && std::find(pids.begin(), pids.end(), pid) == pids.end()) return false;
  if (comm && !std::regex_search(comm_name, *comm)) return false;
  return cgroup_prefix.empty() || cgroup.starts_with(cgroup_prefix);
}

void ReaderStallTracker::update(const ProcessKey& process, double now, std::span<const SocketRecord> records,
                                SocketSummary& summary) {
  const EndpointNamer namer(records);
  std::vector<ReadPositionTracker::Socket> reading;
  for (const auto& r : records) {
    if (!is_tcp(r) || r.unread == 0) continue;  // nothing to read: cannot be stalled
    if (auto name = namer.name(r)) reading.push_back({r.inode, std::move(*name), r.copied_seq, r.unread});
  }
  auto& tracker = trackers_[process];
  std::vector<EndpointObservation> endpoints;
  for (const auto& g : summary.endpoints) endpoints.push_back({.endpoint = endpoint_label(g)});
  tracker.update(now, reading, stall_after_, endpoints);
  for (size_t i = 0; i < endpoints.size(); ++i) {
    summary.endpoints[i].stalled_sockets = endpoints[i].stalled_sockets;
    summary.endpoints[i].stalled_unread_bytes = endpoints[i].stalled_unread_bytes;
    summary.endpoints[i].max_stalled_seconds = endpoints[i].max_stalled_seconds;
  }
}

void ReaderStallTracker::retain(const std::set<ProcessKey>& alive) {
  std::erase_if(trackers_, [&](const auto& entry) { return !alive.contains(entry.first); });
}

NodeSample assemble_node_sample(RoundInputs&& in, RoundState state, size_t top_endpoints) {
  IngressLedger& ledger = state.ledger;
  AgentHealth& health = state.health;
  NodeSample sample;
  std::map<pid_t, const TargetProcess*> by_pid;
  for (const auto& p : in.processes) by_pid.emplace(p.info.pid, &p);

  // Live sockets first, then the closes: a close credits only what arrived
  // after the socket's last sighting.
  const auto spans = spans_by_tgid(in.records);
  for (const auto& [tgid, records] : spans) {
    const auto owner_it = by_pid.find(static_cast<pid_t>(tgid));
    if (owner_it == by_pid.end()) continue;
    const TargetProcess& p = *owner_it->second;
    const SocketOwner owner{ProcessKey{p.info.pid, p.info.stat.start_time}, p.cgroup};
    for (const auto& r : records) {
      if (is_tcp(r) && r.state != kTcpListen) ledger.observe(r.inode, r.bytes_received, consumed_bytes(r), owner);
    }
  }
  for (const auto& e : in.close_events) {
    if (ledger.knows(e.inode)) {
      ledger.close(e.inode, e.bytes_received, e.bytes_consumed, SocketOwner{});  // its owner is known already
    } else if (const auto owner = close_event_owner(e, by_pid, in.cgroup_by_v2_id)) {
      ledger.close(e.inode, e.bytes_received, e.bytes_consumed, *owner);
    } else {
      health.unattributed_received_bytes += e.bytes_received;
    }
  }
  ledger.end_round();

  std::set<ProcessKey> alive;
  for (const auto& p : in.processes) {
    const auto span = spans.find(static_cast<uint32_t>(p.info.pid));
    const auto records = span == spans.end() ? std::span<const SocketRecord>{} : span->second;
    ProcessSample s = process_sample(p, records, top_endpoints);
    s.ingress = ledger.process_totals(s.key);
    state.stalls.update(s.key, state.now, records, s.sockets);
    alive.insert(s.key);

    CgroupSample& c = sample.cgroups[s.cgroup];
    c.path = s.cgroup;
    if (const auto pod = in.cgroup_pods.find(s.cgroup); pod != in.cgroup_pods.end()) c.pod = pod->second;
    c.processes++;
    c.receive_queue_bytes += s.sockets.receive_queue_bytes;
    c.send_queue_bytes += s.sockets.send_queue_bytes;
    sample.processes.push_back(std::move(s));
  }
  ledger.retain_processes(alive);
  state.stalls.retain(alive);
  for (auto& [path, c] : sample.cgroups) {
    c.ingress = ledger.cgroup_totals(path);
    if (const auto it = in.cgroup_memory.find(path); it != in.cgroup_memory.end()) c.memory = it->second;
  }
  std::stable_sort(sample.processes.begin(), sample.processes.end(), [](const auto& a, const auto& b) {
    return a.footprint().value_or(0) > b.footprint().value_or(0);
  });

  health.snapshots++;
  health.sockets_seen = in.records.size();
  health.processes_seen = in.processes.size();
  health.processes_exited_mid_snapshot += in.processes_exited;
  health.close_events += in.close_events.size();
  health.untracked_sockets = ledger.untracked_sockets();
  sample.node = std::move(in.node);
  sample.health = health;
  return sample;
}

NodeSampler::NodeSampler(SocketIterator& sockets, CloseEventSource& close_events, HostPaths paths,
                         TargetFilter filter, size_t top_endpoints, double stall_after_seconds)
    : sockets_(sockets),
      close_events_(close_events),
      paths_(std::move(paths)),
      cgroup_ns_(CgroupNamespace::discover(paths_, getpid())),
      pods_(paths_.log),
      filter_(std::move(filter)),
      top_endpoints_(top_endpoints),
      stalls_(stall_after_seconds) {}

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

void NodeSampler::read_processes(RoundInputs& round) {
  for (const pid_t pid : filter_.pids.empty() ? list_pids(paths_) : filter_.pids) {
    TargetProcess p;
    try {
      p.info = read_process(paths_, pid);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::no_such_process && e.kind() != ErrorKind::process_exited) throw;
      round.processes_exited++;
      continue;
    }
    if (p.info.stat.is_kernel_thread() || p.info.stat.state == 'Z' || p.info.stat.state == 'X') continue;
    cgroup_ns_.to_host_paths(p.info.cgroups);
    const auto location = locate_memory_cgroup(paths_, p.info.cgroups);
    p.cgroup = location ? location->path : "";
    if (!filter_.matches(pid, p.info.status.name.value_or(""), p.cgroup)) continue;
    if (location && !round.cgroup_memory.contains(p.cgroup)) {
      round.cgroup_memory.emplace(p.cgroup, read_cgroup_memory(*location));
      round.cgroup_pods.emplace(p.cgroup, pods_.resolve(p.cgroup));
    }
    p.pod = pods_.resolve(p.info.cgroups);
    if (const auto id = cgroup_v2_id(paths_, p.info.cgroups)) round.cgroup_by_v2_id.emplace(*id, p.cgroup);
    round.processes.push_back(std::move(p));
  }
}

RoundInputs NodeSampler::read_round() {
  RoundInputs round;
  round.records = read_sockets();
  // After the pass: a socket that closed after it was seen is credited the
  // rest of its bytes; one that closed before was never seen and is credited
  // all of them.
  close_events_.drain(round.close_events);
  pods_.refresh();
  read_processes(round);
  round.node = read_node_stats(paths_);
  return round;
}

NodeSample NodeSampler::sample() {
  const auto start = std::chrono::steady_clock::now();
  NodeSample s;
  try {
    const double now = std::chrono::duration<double>(start.time_since_epoch()).count();
    s = assemble_node_sample(read_round(), RoundState{ledger_, health_, stalls_, now}, top_endpoints_);
  } catch (const Error&) {
    health_.snapshot_failures++;
    throw;
  }
  const auto kernel = close_events_.counters();
  s.health.close_events_lost = health_.close_events_lost = kernel.lost;
  s.health.owner_storage_full = health_.owner_storage_full = kernel.owner_storage_full;
  s.health.program_recursion = health_.program_recursion = kernel.recursion_misses;
  s.taken_at = std::chrono::system_clock::now();
  s.duration = std::chrono::steady_clock::now() - start;
  health_.snapshot_seconds.observe(std::chrono::duration<double>(s.duration).count());
  s.health.snapshot_seconds = health_.snapshot_seconds;
  return s;
}

}  // namespace lw
