#include "leakwatch/observation.h"

#include <algorithm>
#include <map>

namespace lw {
namespace {

double count_of(const Counts& counts, std::string_view key) {
  const auto it = counts.find(key);
  return it == counts.end() ? 0.0 : static_cast<double>(it->second);
}

EndpointObservation observe_endpoint(const EndpointGroup& g) {
  return {
      .endpoint = endpoint_label(g),
      .connections = g.connections,
      .close_wait = static_cast<uint64_t>(count_of(g.states, "CLOSE_WAIT")),
      .receive_queue_bytes = g.receive_queue_bytes,
      .send_queue_bytes = g.send_queue_bytes,
      .unread_bytes = g.unread_bytes,
      .stalled_sockets = g.stalled_sockets,
      .stalled_unread_bytes = g.stalled_unread_bytes,
      .max_stalled_seconds = g.max_stalled_seconds,
  };
}

std::optional<double> as_double(const std::optional<uint64_t>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

void add_known(std::optional<double>& into, const std::optional<double>& v) {
  if (v) into = into.value_or(0) + *v;
}

void merge_endpoint(EndpointObservation& into, const EndpointObservation& e) {
  into.connections += e.connections;
  into.close_wait += e.close_wait;
  into.receive_queue_bytes += e.receive_queue_bytes;
  into.send_queue_bytes += e.send_queue_bytes;
  into.unread_bytes += e.unread_bytes;
  into.stalled_sockets += e.stalled_sockets;
  into.stalled_unread_bytes += e.stalled_unread_bytes;
  into.max_stalled_seconds = std::max(into.max_stalled_seconds, e.max_stalled_seconds);
}

std::vector<EndpointObservation> top_endpoints(std::map<std::string, EndpointObservation> merged, size_t top) {
  std::vector<EndpointObservation> sorted;
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
  std::map<std::string, EndpointObservation> endpoints;
  for (const ProcessSample* p : members) {
    const Observation m = observe_process(*p, &cgroup, time);
    add_known(o.rss_anon, m.rss_anon);
    add_known(o.rss_file, m.rss_file);
    add_known(o.rss_shmem, m.rss_shmem);
    add_known(o.open_fds, m.open_fds);
    o.receive_queue_bytes += m.receive_queue_bytes;
    o.send_queue_bytes += m.send_queue_bytes;
    o.unread_bytes += m.unread_bytes;
    o.tcp_connections += m.tcp_connections;
    o.close_wait += m.close_wait;
    o.socket_fds += m.socket_fds;
    for (const auto& e : m.endpoints) {
      auto [it, added] = endpoints.try_emplace(e.endpoint, EndpointObservation{.endpoint = e.endpoint});
      merge_endpoint(it->second, e);
    }
  }
  o.ingress_bytes_total = static_cast<double>(cgroup.ingress.received);
  if (cgroup.memory) {
    o.memory_usage = as_double(cgroup.memory->usage);
    if (cgroup.memory->limit) o.memory_limit = as_double(cgroup.memory->limit->bytes);
  }
  o.endpoints = top_endpoints(std::move(endpoints), top);
  return o;
}

Observation observe_process(const ProcessSample& p, const CgroupSample* cgroup, double time) {
  Observation o;
  o.time = time;
  o.rss_anon = as_double(p.rss_anon);
  o.rss_file = as_double(p.rss_file);
  o.rss_shmem = as_double(p.rss_shmem);
  o.receive_queue_bytes = static_cast<double>(p.sockets.receive_queue_bytes);
  o.send_queue_bytes = static_cast<double>(p.sockets.send_queue_bytes);
  o.unread_bytes = static_cast<double>(p.sockets.unread_bytes);
  o.ingress_bytes_total = static_cast<double>(p.ingress.received);
  for (const auto& [state, count] : p.sockets.by_tcp_state) {
    if (state != "LISTEN") o.tcp_connections += static_cast<double>(count);
  }
  o.close_wait = count_of(p.sockets.by_tcp_state, "CLOSE_WAIT");
  o.open_fds = as_double(p.open_fds);
  o.socket_fds = static_cast<double>(p.sockets.sockets);
  if (cgroup && cgroup->memory) {
    o.memory_usage = as_double(cgroup->memory->usage);
    if (cgroup->memory->limit) o.memory_limit = as_double(cgroup->memory->limit->bytes);
  }
  for (const auto& g : p.sockets.endpoints) o.endpoints.push_back(observe_endpoint(g));
  return o;
}

}  // namespace lw
