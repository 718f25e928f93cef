#include "leakwatch/observation.h"

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

}  // namespace

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
