#include "output/report_json.h"

#include <fmt/chrono.h>

#include "output/json_fields.h"

namespace lw {
namespace {

using json = nlohmann::ordered_json;

json optional_seconds(const std::optional<uint64_t>& ms) {
  return ms ? json(static_cast<double>(*ms) / 1000.0) : json(nullptr);
}

json process_json(const ProcessInfo& p) {
  return {
      {"pid", p.pid},
      {"command", optional_value(p.status.name)},
      {"cmdline", p.cmdline},
      {"state", std::string(1, p.stat.state)},
      {"start_time_ticks", p.stat.start_time},
      {"open_fds", optional_value(p.open_fds)},
  };
}

json memory_json(const MemoryBreakdown& m) {
  return {
      {"rss_anon_bytes", optional_value(m.anon)},   {"rss_file_bytes", optional_value(m.file)},
      {"rss_shmem_bytes", optional_value(m.shmem)}, {"socket_receive_queue_bytes", m.receive_queues},
      {"socket_send_queue_bytes", m.send_queues},   {"footprint_bytes", optional_value(m.footprint)},
  };
}

// null outside a pod; inside one, every field, empty when unknown.
json pod_json(const PodIdentity& pod) {
  if (pod.empty()) return nullptr;
  return {{"namespace", pod.namespace_},
          {"pod", pod.pod},
          {"pod_uid", pod.pod_uid},
          {"container", pod.container},
          {"container_id", pod.container_id}};
}

json cgroup_json(const std::optional<CgroupMemory>& c) {
  if (!c) return nullptr;
  std::string limit_state = "unknown";
  json limit_bytes = nullptr;
  if (c->limit) {
    limit_state = c->limit->bytes ? "set" : "none";
    limit_bytes = optional_value(c->limit->bytes);
  }
  return {
      {"version", c->version == CgroupVersion::v1 ? "v1" : "v2"},
      {"path", c->path},
      {"usage_bytes", optional_value(c->usage)},
      {"limit_state", limit_state},
      {"limit_bytes", limit_bytes},
      {"socket_bytes", optional_value(c->sock)},
      {"anon_bytes", optional_value(c->anon)},
      {"file_bytes", optional_value(c->file)},
  };
}

json listeners_json(const std::vector<ListenerQueue>& listeners) {
  json out = json::array();
  for (const auto& q : listeners) {
    const bool unix_socket = !q.path.empty();
    out.push_back({{"port", unix_socket ? json(nullptr) : json(q.port)},
                   {"path", unix_socket ? json(q.path) : json(nullptr)},
                   {"waiting", q.waiting},
                   {"limit", q.limit}});
  }
  return out;
}

json sockets_json(const SocketSummary& s) {
  return {
      {"total", s.sockets},
      {"descriptors", s.descriptors},
      {"receive_queue_bytes", s.receive_queue_bytes},
      {"send_queue_bytes", s.send_queue_bytes},
      {"unread_bytes", s.unread_bytes},
      {"drops", s.drops},
      {"sockets_with_unread", s.sockets_with_unread},
      {"unix_unread_bytes", s.unix_unread_bytes},
      {"unix_sockets_with_unread", s.unix_sockets_with_unread},
      {"by_kind", s.by_kind},
      {"by_tcp_state", s.by_tcp_state},
      {"accept_queue", s.accept_queue},
      {"listeners", listeners_json(s.listeners)},
  };
}

}  // namespace

json to_json(const EndpointGroup& g) {
  json j = endpoint_counts_json(g);
  j["max_idle_seconds"] = optional_seconds(g.max_idle_ms);
  if (g.inbound) j["local_port"] = g.local_port;
  return j;
}

json to_json(const SocketRecord& r) {
  const bool tcp = is_tcp(r);
  const bool idle_known = (r.flags & LW_SOCK_RCV_AGE_KNOWN) != 0;
  const bool listener = is_tcp_listener(r);
  return {
      {"fd", r.fd},
      {"inode", r.inode},
      {"kind", socket_kind(r)},
      {"state", tcp ? json(tcp_state_name(r.state)) : json(nullptr)},
      {"local", is_inet(r) ? json(local_endpoint(r)) : json(nullptr)},
      {"remote", is_inet(r) && r.remote_port ? json(remote_endpoint(r)) : json(nullptr)},
      {"receive_queue_bytes", receive_queue_bytes(r)},
      {"send_queue_bytes", send_queue_bytes(r)},
      {"receive_buffer_bytes", r.rcvbuf},
      {"send_buffer_bytes", r.sndbuf},
      {"drops", r.drops},
      {"unread_bytes", unread_known(r) ? json(r.unread) : json(nullptr)},
      {"unacked_bytes", tcp ? json(r.unacked) : json(nullptr)},
      {"bytes_received", tcp ? json(r.bytes_received) : json(nullptr)},
      {"bytes_acked", tcp ? json(r.bytes_acked) : json(nullptr)},
      {"idle_seconds", idle_known ? json(r.last_rcv_age_ms / 1000.0) : json(nullptr)},
      {"accept_queue", listener ? json(r.accept_queue) : json(nullptr)},
      {"accept_queue_limit", listener ? json(r.accept_queue_limit) : json(nullptr)},
  };
}

json to_json(const Finding& f) {
  json contributors = json::array();
  for (const auto& c : f.top_contributors) {
    contributors.push_back({{"endpoint", c.endpoint},
                            {"connections", c.connections},
                            {"queued_bytes", c.queued_bytes},
                            {"stalled_seconds", optional_value(c.stalled_seconds)}});
  }
  return {
      {"kind", to_string(f.kind)},
      {"severity", to_string(f.severity)},
      {"confidence", f.confidence},
      {"growth_per_second", f.growth_per_second},
      {"share_of_growth", f.share_of_growth},
      {"ingress_correlation", optional_value(f.ingress_correlation)},
      {"seconds_to_limit", optional_value(f.seconds_to_limit)},
      {"window_seconds", f.window_seconds},
      {"across_restarts", f.across_restarts},
      {"top_contributors", contributors},
      {"explanation", f.explanation},
      {"suggested_fix", f.suggested_fix},
  };
}

json shared_sockets_json(const std::optional<std::vector<SharedSocket>>& shared) {
  if (!shared) return nullptr;
  json out = json::array();
  for (const auto& s : *shared) {
    json others = json::array();
    for (const auto& h : s.others) {
      others.push_back({{"pid", h.pid},
                        {"command", h.command.empty() ? json(nullptr) : json(h.command)},
                        {"descriptors", h.descriptors}});
    }
    json socket = to_json(s.socket);
    socket["descriptors"] = s.descriptors;
    socket["other_holders"] = others;
    out.push_back(socket);
  }
  return out;
}

json to_json(const ProcessReport& report) {
  json endpoints = json::array();
  for (const auto& g : report.sockets.endpoints) endpoints.push_back(to_json(g));
  json top_sockets = json::array();
  for (const auto& r : report.sockets.top_sockets) top_sockets.push_back(to_json(r));
  json other = to_json(report.sockets.other_endpoints);
  other.erase("peer");
  other.erase("direction");
  return {
      {"schema_version", kInspectSchemaVersion},
      {"taken_at", fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(report.taken_at))},
      {"process", process_json(report.process)},
      {"memory", memory_json(report.memory)},
      {"cgroup", cgroup_json(report.cgroup)},
      {"pod", pod_json(report.pod)},
      {"sockets", sockets_json(report.sockets)},
      {"endpoints", {{"total", report.sockets.endpoints_total}, {"top", endpoints}, {"other", other}}},
      {"top_sockets", top_sockets},
      {"shared_sockets", shared_sockets_json(report.shared_sockets)},
  };
}

}  // namespace lw
