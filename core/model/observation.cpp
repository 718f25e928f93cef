#include "model/observation.h"

#include <algorithm>
#include <map>

namespace lw {
namespace {

std::optional<double> as_double(const std::optional<uint64_t>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

void add_known(std::optional<double>& into, const std::optional<double>& v) {
  if (v) into = into.value_or(0) + *v;
}

ResidentMemory<double> as_double(const ResidentMemory<uint64_t>& m) {
  return {as_double(m.anon), as_double(m.file), as_double(m.shmem), as_double(m.total)};
}

void add_known(ResidentMemory<double>& into, const ResidentMemory<double>& m) {
  add_known(into.anon, m.anon);
  add_known(into.file, m.file);
  add_known(into.shmem, m.shmem);
  add_known(into.total, m.total);
}

void add_cgroup_memory(Observation& o, const CgroupSample* cgroup) {
  if (!cgroup || !cgroup->memory) return;
  o.memory_usage = as_double(cgroup->memory->usage);
  if (cgroup->memory->limit) o.memory_limit = as_double(cgroup->memory->limit->bytes);
}

// A listener shared by pre-forked workers is one socket, and SO_REUSEPORT
// listeners on one port are the port's queue split in parts: per port (or
// unix path), the cgroup keeps the fullest, never a sum.
std::vector<ListenerQueue> fullest_per_listener(const std::vector<ListenerQueue>& listeners) {
  std::map<std::string, ListenerQueue> by_name;
  for (const auto& q : listeners) {
    if (auto [it, added] = by_name.try_emplace(listener_name(q), q); !added && q.waiting > it->second.waiting) {
      it->second = q;
    }
  }
  std::vector<ListenerQueue> out;
  for (const auto& [name, q] : by_name) out.push_back(q);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.waiting > b.waiting; });
  return out;
}

// What a set of sockets, a process's or a cgroup's, shows the analysis.
void add_sockets(Observation& o, const SocketSummary& s) {
  o.receive_queue_bytes = static_cast<double>(s.receive_queue_bytes);
  o.send_queue_bytes = static_cast<double>(s.send_queue_bytes);
  o.unread_bytes = static_cast<double>(s.unread_bytes);
  o.tcp_connections = static_cast<double>(tcp_connections(s.by_tcp_state));
  o.close_wait = static_cast<double>(count_of(s.by_tcp_state, "CLOSE_WAIT"));
  o.idle_connections = as_double(s.idle_connections);
  o.endpoints = s.endpoints;
}

}  // namespace

Observation combine_samples(const Observation& earlier, const Observation& later,
                            const std::function<double(double, double)>& op) {
  const auto known = [&](const std::optional<double>& a, const std::optional<double>& b) {
    return a && b ? std::optional(op(*a, *b)) : (b ? b : a);
  };
  Observation o = later;
  o.time = op(earlier.time, later.time);
  o.resident = {known(earlier.resident.anon, later.resident.anon), known(earlier.resident.file, later.resident.file),
                known(earlier.resident.shmem, later.resident.shmem),
                known(earlier.resident.total, later.resident.total)};
  o.receive_queue_bytes = op(earlier.receive_queue_bytes, later.receive_queue_bytes);
  o.send_queue_bytes = op(earlier.send_queue_bytes, later.send_queue_bytes);
  o.unread_bytes = op(earlier.unread_bytes, later.unread_bytes);
  o.ingress_bytes_total = op(earlier.ingress_bytes_total, later.ingress_bytes_total);
  o.tcp_connections = op(earlier.tcp_connections, later.tcp_connections);
  o.close_wait = op(earlier.close_wait, later.close_wait);
  o.idle_connections = known(earlier.idle_connections, later.idle_connections);
  o.open_fds = known(earlier.open_fds, later.open_fds);
  o.socket_fds = op(earlier.socket_fds, later.socket_fds);
  o.memory_limit = known(earlier.memory_limit, later.memory_limit);
  o.memory_usage = known(earlier.memory_usage, later.memory_usage);
  return o;
}

Observation observe_cgroup(const CgroupSample& cgroup, const std::vector<const ProcessSample*>& members, double time,
                           size_t top) {
  Observation o;
  o.time = time;
  for (const ProcessSample* p : members) {
    add_known(o.resident, as_double(p->resident));
    add_known(o.open_fds, as_double(p->open_fds));
    o.socket_fds += static_cast<double>(p->sockets.descriptors);
  }
  add_sockets(o, cgroup.sockets);
  if (o.endpoints.size() > top) o.endpoints.resize(top);
  o.listeners = fullest_per_listener(cgroup.sockets.listeners);
  o.ingress_bytes_total = static_cast<double>(cgroup.ingress.received);
  add_cgroup_memory(o, &cgroup);
  return o;
}

Observation observe_process(const ProcessSample& p, const CgroupSample* cgroup, double time) {
  Observation o;
  o.time = time;
  o.resident = as_double(p.resident);
  add_sockets(o, p.sockets);
  o.ingress_bytes_total = static_cast<double>(p.ingress.received);
  o.open_fds = as_double(p.open_fds);
  o.socket_fds = static_cast<double>(p.sockets.descriptors);
  add_cgroup_memory(o, cgroup);
  o.listeners = p.sockets.listeners;
  return o;
}

}  // namespace lw
