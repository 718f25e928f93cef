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

// A listener shared by pre-forked workers shows in each of them, and
// SO_REUSEPORT listeners on one port are the port's queue split in parts:
// per port, the cgroup keeps the fullest, never a sum that counts one queue
// once per worker.
std::vector<ListenerQueue> fullest_per_port(const std::map<uint16_t, ListenerQueue>& by_port) {
  std::vector<ListenerQueue> out;
  for (const auto& [port, q] : by_port) out.push_back(q);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.waiting > b.waiting; });
  return out;
}

std::vector<EndpointGroup> top_endpoints(std::map<std::string, EndpointGroup> merged, size_t top) {
  std::vector<EndpointGroup> sorted;
  for (auto& [name, e] : merged) sorted.push_back(std::move(e));
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.receive_queue_bytes + a.send_queue_bytes > b.receive_queue_bytes + b.send_queue_bytes;
  });
  if (sorted.size() > top) sorted.resize(top);
  return sorted;
}

}  // namespace

Observation observe_cgroup(const CgroupSample& cgroup, const std::vector<const ProcessSample*>& members, double time,
                           size_t top) {
  Observation o;
  o.time = time;
  std::map<std::string, EndpointGroup> endpoints;
  std::map<uint16_t, ListenerQueue> listeners;
  for (const ProcessSample* p : members) {
    const Observation m = observe_process(*p, &cgroup, time);
    add_known(o.resident, m.resident);
    add_known(o.open_fds, m.open_fds);
    o.receive_queue_bytes += m.receive_queue_bytes;
    o.send_queue_bytes += m.send_queue_bytes;
    o.unread_bytes += m.unread_bytes;
    o.tcp_connections += m.tcp_connections;
    o.close_wait += m.close_wait;
    o.socket_fds += m.socket_fds;
    for (const auto& e : m.endpoints) merge_endpoint_group(endpoints[endpoint_label(e)], e);
    for (const auto& q : m.listeners) {
      if (auto [it, added] = listeners.try_emplace(q.port, q); !added && q.waiting > it->second.waiting) it->second = q;
    }
  }
  o.listeners = fullest_per_port(listeners);
  o.ingress_bytes_total = static_cast<double>(cgroup.ingress.received);
  add_cgroup_memory(o, &cgroup);
  o.endpoints = top_endpoints(std::move(endpoints), top);
  return o;
}

Observation observe_process(const ProcessSample& p, const CgroupSample* cgroup, double time) {
  Observation o;
  o.time = time;
  o.resident = as_double(p.resident);
  o.receive_queue_bytes = static_cast<double>(p.sockets.receive_queue_bytes);
  o.send_queue_bytes = static_cast<double>(p.sockets.send_queue_bytes);
  o.unread_bytes = static_cast<double>(p.sockets.unread_bytes);
  o.ingress_bytes_total = static_cast<double>(p.ingress.received);
  for (const auto& [state, count] : p.sockets.by_tcp_state) {
    if (state != "LISTEN") o.tcp_connections += static_cast<double>(count);
  }
  o.close_wait = static_cast<double>(count_of(p.sockets.by_tcp_state, "CLOSE_WAIT"));
  o.open_fds = as_double(p.open_fds);
  o.socket_fds = static_cast<double>(p.sockets.sockets);
  add_cgroup_memory(o, cgroup);
  o.endpoints = p.sockets.endpoints;
  o.listeners = p.sockets.listeners;
  return o;
}

}  // namespace lw
