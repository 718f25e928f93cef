#include "metrics_exporter.h"

#include <algorithm>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "util/utf8.h"

namespace lw {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// One metric family, filled sample by sample.
class Family {
 public:
  Family(std::string name, std::string help, MetricType type) { f_ = {std::move(name), std::move(help), type, {}}; }
  void add(Labels labels, double value) {
    ClientMetric m;
    m.label = valid(std::move(labels));
    if (f_.type == MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    f_.metric.push_back(std::move(m));
  }
  void add(Labels labels, const std::optional<uint64_t>& value) {
    if (value) add(std::move(labels), static_cast<double>(*value));
  }
  void add(Labels labels, const std::optional<double>& value) {
    if (value) add(std::move(labels), *value);
  }
  void add_histogram(Labels labels, const DurationHistogram& h) {
    ClientMetric m;
    m.label = valid(std::move(labels));
    m.histogram.sample_count = h.total;
    m.histogram.sample_sum = h.sum;
    for (size_t i = 0; i < std::size(DurationHistogram::kBounds); ++i) {
      m.histogram.bucket.push_back({h.counts[i], DurationHistogram::kBounds[i]});
    }
    m.histogram.bucket.push_back({h.total, std::numeric_limits<double>::infinity()});
    f_.metric.push_back(std::move(m));
  }
  MetricFamily take() { return std::move(f_); }

 private:
  // A process names itself with any bytes, and Prometheus refuses a whole
  // scrape for one label value that is not UTF-8.
  static Labels valid(Labels labels) {
    for (auto& label : labels) {
      if (!is_valid_utf8(label.value)) label.value = valid_utf8(label.value);
    }
    return labels;
  }

  MetricFamily f_;
};

Labels with(Labels base, std::string name, std::string value) {
  base.push_back({std::move(name), std::move(value)});
  return base;
}

Labels with_pod(Labels base, const PodIdentity& pod) {
  for (auto& [name, value] : pod_labels(pod)) base.push_back({std::move(name), std::move(value)});
  return base;
}

Labels process_labels(const ProcessSample& p) {
  return with_pod({{"pid", std::to_string(p.key.pid)}, {"comm", p.comm}, {"cgroup", p.cgroup}}, p.pod);
}

// The kinds socket_kind() names for common families; anything rarer is
// summed as "other" so a family number can never become a new series.
std::string type_label(const std::string& kind) {
  static const std::set<std::string, std::less<>> known{
      "tcp",   "tcp6",        "udp",        "udp6",           "raw",     "raw6",  "icmp",
      "icmp6", "unix-stream", "unix-dgram", "unix-seqpacket", "netlink", "packet"};
  return known.contains(kind) ? kind : "other";
}

// The top K by footprint (processes are sorted so), then those with a
// finding, up to max_findings more.
std::vector<const ProcessSample*> exported_processes(const std::vector<ProcessSample>& processes,
                                                     const std::vector<ActiveFinding>& findings,
                                                     const ExportLimits& limits) {
  std::vector<const ProcessSample*> out;
  std::set<ProcessKey> chosen;
  for (size_t i = 0; i < std::min(limits.top_processes, processes.size()); ++i) {
    out.push_back(&processes[i]);
    chosen.insert(processes[i].key);
  }
  std::set<ProcessKey> with_finding;
  for (const auto& f : findings) {
    if (f.process && with_finding.size() < limits.max_findings) with_finding.insert(*f.process);
  }
  for (const auto& p : processes) {
    if (with_finding.contains(p.key) && chosen.insert(p.key).second) out.push_back(&p);
  }
  return out;
}

void export_findings(const std::vector<ActiveFinding>& findings, size_t max, std::vector<MetricFamily>& out) {
  Family suspected("leakwatch_leak_suspected", "1 while a leak finding is active for the process", MetricType::Gauge);
  Family paging("leakwatch_leak_paging",
                "1 while a finding pages: warning or critical, held for the agent's --page-after; what the shipped "
                "LeakwatchLeakSuspected alert fires on",
                MetricType::Gauge);
  Family growth("leakwatch_leak_growth_per_second",
                "Growth behind the finding: bytes/s for memory kinds, connections/s or fds/s for leak kinds",
                MetricType::Gauge);
  Family to_limit("leakwatch_leak_seconds_to_limit", "Time until the cgroup memory limit at the current growth",
                  MetricType::Gauge);
  Family confidence("leakwatch_leak_confidence", "Confidence of the finding, 0 to 1", MetricType::Gauge);
  Family share("leakwatch_leak_growth_share", "Share of the footprint's growth the finding explains, 0 to 1",
               MetricType::Gauge);
  Family correlation("leakwatch_leak_ingress_correlation",
                     "Pearson correlation of the footprint with cumulative TCP ingress over the window, -1 to 1; "
                     "absent when ingress did not change",
                     MetricType::Gauge);
  for (size_t i = 0; i < std::min(max, findings.size()); ++i) {
    const ActiveFinding& f = findings[i];
    // A finding about a whole cgroup has no process: pid and comm are empty.
    const Labels base = with_pod({{"pid", f.process ? std::to_string(f.process->pid) : ""},
                                  {"comm", f.comm},
                                  {"cgroup", f.cgroup},
                                  {"kind", std::string(to_string(f.finding.kind))}},
                                 f.pod);
    const Labels with_severity = with(base, "severity", std::string(to_string(f.finding.severity)));
    suspected.add(with_severity, 1);
    if (f.paging) paging.add(with_severity, 1);
    growth.add(base, f.finding.growth_per_second);
    if (f.finding.seconds_to_limit) to_limit.add(base, *f.finding.seconds_to_limit);
    confidence.add(base, f.finding.confidence);
    share.add(base, f.finding.share_of_growth);
    if (f.finding.ingress_correlation) correlation.add(base, *f.finding.ingress_correlation);
  }
  for (auto* f : {&suspected, &paging, &growth, &to_limit, &confidence, &share, &correlation}) out.push_back(f->take());
}

void export_processes(const std::vector<const ProcessSample*>& processes, std::vector<MetricFamily>& out) {
  Family rss("leakwatch_process_resident_memory_bytes",
             "Resident memory of the process by kind (from /proc/PID/status)", MetricType::Gauge);
  Family queues("leakwatch_process_socket_queue_bytes",
                "Kernel memory held in the process's socket queues, by direction", MetricType::Gauge);
  Family unread("leakwatch_process_socket_unread_bytes",
                "TCP bytes that arrived for the process but that it has not read", MetricType::Gauge);
  Family unix_unread("leakwatch_process_unix_socket_unread_bytes",
                     "Bytes waiting for the process to read at its ends of unix stream connections (the memory is "
                     "the writer's)",
                     MetricType::Gauge);
  Family drops("leakwatch_process_socket_drops",
               "Packets the kernel dropped at the receive side of the process's sockets (sk_drops), over the sockets "
               "it holds now",
               MetricType::Gauge);
  Family footprint("leakwatch_process_footprint_bytes", "Resident memory plus socket queue memory", MetricType::Gauge);
  Family per_connection("leakwatch_process_memory_per_connection_bytes",
                        "Footprint divided by the process's TCP connections (not listeners); absent without any",
                        MetricType::Gauge);
  Family by_type("leakwatch_process_sockets", "Open sockets of the process by type", MetricType::Gauge);
  Family by_state("leakwatch_process_tcp_sockets", "Open TCP sockets of the process by state", MetricType::Gauge);
  Family received("leakwatch_process_tcp_received_bytes_total",
                  "TCP bytes that arrived for the process, read or not (closed sockets included)", MetricType::Counter);
  Family consumed("leakwatch_process_tcp_consumed_bytes_total",
                  "TCP bytes the process has read (closed sockets included)", MetricType::Counter);
  Family fds("leakwatch_process_open_fds", "Open file descriptors of the process", MetricType::Gauge);
  Family conns("leakwatch_process_endpoint_connections",
               "Connections per remote endpoint, top N per process, the rest as endpoint=\"other\"", MetricType::Gauge);
  Family endpoint_queues("leakwatch_process_endpoint_queue_bytes",
                         "Socket queue memory per remote endpoint and direction, top N per process", MetricType::Gauge);
  Family accept_waiting("leakwatch_process_accept_queue_connections",
                        "Connections waiting to be accepted per listening port or unix socket path, top N per process",
                        MetricType::Gauge);
  Family accept_limit("leakwatch_process_accept_queue_limit",
                      "Accept queue limit per listening port or unix socket path (listen backlog capped by somaxconn)",
                      MetricType::Gauge);

  for (const ProcessSample* exported : processes) {
    const ProcessSample& p = *exported;
    const Labels base = process_labels(p);
    rss.add(with(base, "kind", "anon"), p.resident.anon);
    rss.add(with(base, "kind", "file"), p.resident.file);
    rss.add(with(base, "kind", "shmem"), p.resident.shmem);
    queues.add(with(base, "direction", "receive"), static_cast<double>(p.sockets.receive_queue_bytes));
    queues.add(with(base, "direction", "send"), static_cast<double>(p.sockets.send_queue_bytes));
    unread.add(base, static_cast<double>(p.sockets.unread_bytes));
    unix_unread.add(base, static_cast<double>(p.sockets.unix_unread_bytes));
    drops.add(base, static_cast<double>(p.sockets.drops));
    footprint.add(base, p.footprint());
    per_connection.add(base, memory_per_connection(p.footprint(), tcp_connections(p.sockets.by_tcp_state)));
    Counts types;
    for (const auto& [kind, count] : p.sockets.by_kind) types[type_label(kind)] += count;
    for (const auto& [type, count] : types) by_type.add(with(base, "type", type), static_cast<double>(count));
    for (const auto& [state, count] : p.sockets.by_tcp_state) {
      by_state.add(with(base, "state", state), static_cast<double>(count));
    }
    received.add(base, static_cast<double>(p.ingress.received));
    consumed.add(base, static_cast<double>(p.ingress.consumed));
    fds.add(base, p.open_fds);
    auto add_endpoint = [&](const std::string& name, const EndpointGroup& g) {
      const Labels e = with(base, "endpoint", name);
      conns.add(e, static_cast<double>(g.connections));
      endpoint_queues.add(with(e, "direction", "receive"), static_cast<double>(g.receive_queue_bytes));
      endpoint_queues.add(with(e, "direction", "send"), static_cast<double>(g.send_queue_bytes));
    };
    for (const auto& g : p.sockets.endpoints) add_endpoint(endpoint_label(g), g);
    if (p.sockets.endpoints_total > p.sockets.endpoints.size()) add_endpoint("other", p.sockets.other_endpoints);
    for (const auto& q : p.sockets.listeners) {
      const Labels l = q.path.empty() ? with(base, "port", std::to_string(q.port)) : with(base, "path", q.path);
      accept_waiting.add(l, static_cast<double>(q.waiting));
      accept_limit.add(l, static_cast<double>(q.limit));
    }
  }
  for (auto* f : {&rss, &queues, &unread, &unix_unread, &drops, &footprint, &per_connection, &by_type, &by_state,
                  &received, &consumed, &fds, &conns, &endpoint_queues, &accept_waiting, &accept_limit}) {
    out.push_back(f->take());
  }
}

std::vector<const CgroupSample*> top_cgroups(const std::map<std::string, CgroupSample>& cgroups, size_t top) {
  std::vector<const CgroupSample*> sorted;
  for (const auto& [path, c] : cgroups) sorted.push_back(&c);
  const auto usage = [](const CgroupSample* c) { return c->memory && c->memory->usage ? *c->memory->usage : 0; };
  std::stable_sort(sorted.begin(), sorted.end(), [&](auto* a, auto* b) { return usage(a) > usage(b); });
  if (sorted.size() > top) sorted.resize(top);
  return sorted;
}

void export_cgroups(const std::map<std::string, CgroupSample>& cgroups, size_t top, std::vector<MetricFamily>& out) {
  Family usage("leakwatch_cgroup_memory_usage_bytes",
               "Memory charged to the cgroup (memory.current or "
               "memory.usage_in_bytes)",
               MetricType::Gauge);
  Family limit("leakwatch_cgroup_memory_limit_bytes", "Memory limit of the cgroup; absent when it has none",
               MetricType::Gauge);
  Family sock("leakwatch_cgroup_socket_memory_bytes",
              "Socket memory in the cgroup's own accounting (memory.stat "
              "sock, or v1 kmem.tcp when enabled)",
              MetricType::Gauge);
  Family queues("leakwatch_cgroup_socket_queue_bytes", "Socket queue memory of the cgroup's processes, by direction",
                MetricType::Gauge);
  Family drops("leakwatch_cgroup_socket_drops",
               "Packets the kernel dropped at the receive side of the cgroup's sockets (sk_drops), over the sockets "
               "its processes hold now",
               MetricType::Gauge);
  Family received("leakwatch_cgroup_tcp_received_bytes_total", "TCP bytes that arrived for the cgroup's sockets",
                  MetricType::Counter);
  Family consumed("leakwatch_cgroup_tcp_consumed_bytes_total", "TCP bytes the cgroup's processes have read",
                  MetricType::Counter);
  Family procs("leakwatch_cgroup_processes", "Processes of the cgroup the agent reports on", MetricType::Gauge);
  Family per_connection("leakwatch_cgroup_memory_per_connection_bytes",
                        "Memory charged to the cgroup divided by its processes' TCP connections (each socket once, not "
                        "listeners); absent without any",
                        MetricType::Gauge);
  for (const CgroupSample* c : top_cgroups(cgroups, top)) {
    const Labels base = with_pod({{"cgroup", c->path}}, c->pod);
    if (c->memory) {
      usage.add(base, c->memory->usage);
      if (c->memory->limit) limit.add(base, c->memory->limit->bytes);
      sock.add(base, c->memory->sock);
      per_connection.add(base, memory_per_connection(c->memory->usage, tcp_connections(c->sockets.by_tcp_state)));
    }
    queues.add(with(base, "direction", "receive"), static_cast<double>(c->sockets.receive_queue_bytes));
    queues.add(with(base, "direction", "send"), static_cast<double>(c->sockets.send_queue_bytes));
    drops.add(base, static_cast<double>(c->sockets.drops));
    received.add(base, static_cast<double>(c->ingress.received));
    consumed.add(base, static_cast<double>(c->ingress.consumed));
    procs.add(base, static_cast<double>(c->processes));
  }
  for (auto* f : {&usage, &limit, &sock, &per_connection, &queues, &drops, &received, &consumed, &procs}) {
    out.push_back(f->take());
  }
}

// The socket pass sees every network namespace; sockstat's counts of sockets
// in use are the host namespace's only, its allocations and memory global.
void export_node(const NodeStats& n, const std::optional<SocketSummary>& held, std::vector<MetricFamily>& out) {
  const auto bytes = [&](const std::optional<uint64_t>& pages) -> std::optional<uint64_t> {
    if (!pages) return std::nullopt;
    return *pages * n.page_size;
  };
  Family held_sockets("leakwatch_node_held_sockets",
                      "Sockets held by processes of the node, every network namespace, each once", MetricType::Gauge);
  Family held_queues("leakwatch_node_held_socket_queue_bytes",
                     "Socket queue memory of the sockets processes hold, every network namespace, each once",
                     MetricType::Gauge);
  if (held) {
    held_sockets.add({{"type", "all"}}, static_cast<double>(held->sockets));
    for (const auto& [type, count] : held->by_kind) held_sockets.add({{"type", type}}, static_cast<double>(count));
    held_queues.add({{"direction", "receive"}}, static_cast<double>(held->receive_queue_bytes));
    held_queues.add({{"direction", "send"}}, static_cast<double>(held->send_queue_bytes));
  }
  Family sockets("leakwatch_node_sockets", "Sockets on the node (/proc/net/sockstat)", MetricType::Gauge);
  sockets.add({{"kind", "all"}}, n.sockets.sockets_used);
  sockets.add({{"kind", "tcp_inuse"}}, n.sockets.tcp_inuse);
  sockets.add({{"kind", "tcp_orphan"}}, n.sockets.tcp_orphan);
  sockets.add({{"kind", "tcp_alloc"}}, n.sockets.tcp_alloc);
  sockets.add({{"kind", "tcp_timewait"}}, n.sockets.tcp_tw);
  sockets.add({{"kind", "tcp6_inuse"}}, n.sockets.tcp6_inuse);
  sockets.add({{"kind", "udp_inuse"}}, n.sockets.udp_inuse);
  sockets.add({{"kind", "udp6_inuse"}}, n.sockets.udp6_inuse);
  Family memory("leakwatch_node_socket_memory_bytes", "Socket memory of the node by protocol (/proc/net/sockstat)",
                MetricType::Gauge);
  memory.add({{"protocol", "tcp"}}, bytes(n.sockets.tcp_mem_pages));
  memory.add({{"protocol", "udp"}}, bytes(n.sockets.udp_mem_pages));
  Family limits("leakwatch_node_tcp_memory_limit_bytes",
                "TCP memory thresholds of the node (net.ipv4.tcp_mem): min, pressure, max", MetricType::Gauge);
  if (n.tcp_mem) {
    limits.add({{"threshold", "min"}}, bytes(n.tcp_mem->min_pages));
    limits.add({{"threshold", "pressure"}}, bytes(n.tcp_mem->pressure_pages));
    limits.add({{"threshold", "max"}}, bytes(n.tcp_mem->max_pages));
  }
  for (auto* f : {&held_sockets, &held_queues, &sockets, &memory, &limits}) out.push_back(f->take());
}

// All zero without --record-dir.
void export_recordings(const RecordingCounters* counters, std::vector<MetricFamily>& out) {
  const auto count = [&](const std::atomic<uint64_t> RecordingCounters::*field) {
    return counters ? static_cast<double>((counters->*field).load()) : 0.0;
  };
  Family lines("leakwatch_recording_lines_total",
               "Lines of --record-dir recordings: written, not written because all recordings reached "
               "--record-max-bytes (over_limit), or not written because a file could not be created or written "
               "(failed)",
               MetricType::Counter);
  lines.add({{"result", "written"}}, count(&RecordingCounters::lines_written));
  lines.add({{"result", "over_limit"}}, count(&RecordingCounters::lines_over_limit));
  lines.add({{"result", "failed"}}, count(&RecordingCounters::lines_failed));
  Family bytes("leakwatch_recording_bytes_total", "Bytes written to --record-dir recordings", MetricType::Counter);
  bytes.add({}, count(&RecordingCounters::bytes_written));
  out.push_back(lines.take());
  out.push_back(bytes.take());
}

// Who a closed socket's owner is known from: BPF keeps it in socket storage;
// sock_diag's notifications name the socket by cookie, known from the last pass.
std::string owners_of_closes(const std::string& closes) {
  if (closes == "tp_btf_inet_sock_set_state") return "bpf_sk_storage";
  if (closes == "sock_diag_destroy") return "sock_diag_cookie";
  return "none";
}

void export_health(const NodeSample& s, size_t exported_processes, std::vector<MetricFamily>& out) {
  const AgentHealth& h = s.health;
  Family duration("leakwatch_snapshot_duration_seconds", "Duration of one sampling round", MetricType::Histogram);
  duration.add_histogram({}, h.snapshot_seconds);
  Family snapshots("leakwatch_snapshots_total", "Sampling rounds by result", MetricType::Counter);
  snapshots.add({{"result", "ok"}}, static_cast<double>(h.snapshots));
  snapshots.add({{"result", "failed"}}, static_cast<double>(h.snapshot_failures));
  Family sockets("leakwatch_sockets_seen", "Sockets in the last sampling round", MetricType::Gauge);
  sockets.add({}, static_cast<double>(h.sockets_seen));
  Family unseen("leakwatch_sockets_unseen",
                "Socket descriptors of the last round the backend could not describe (netlink: kinds other than "
                "TCP, UDP and unix, or a network namespace it could not enter)",
                MetricType::Gauge);
  unseen.add({}, static_cast<double>(h.sockets_unseen));
  Family processes("leakwatch_processes_seen", "Targeted processes in the last sampling round", MetricType::Gauge);
  processes.add({}, static_cast<double>(h.processes_seen));
  Family exported("leakwatch_processes_exported", "Processes with per-process series (the top K by footprint)",
                  MetricType::Gauge);
  exported.add({}, static_cast<double>(exported_processes));
  Family cgroups("leakwatch_cgroups_seen", "Cgroups of targeted processes in the last round", MetricType::Gauge);
  cgroups.add({}, static_cast<double>(s.cgroups.size()));
  Family lost("leakwatch_events_lost_total", "Data the agent could not account for, by cause", MetricType::Counter);
  lost.add({{"cause", "close_ring_buffer_full"}}, static_cast<double>(h.close_events_lost));
  lost.add({{"cause", "close_socket_buffer_full"}}, static_cast<double>(h.close_socket_buffer_full));
  lost.add({{"cause", "close_backlog_full"}}, static_cast<double>(h.close_backlog_full));
  lost.add({{"cause", "owner_storage_full"}}, static_cast<double>(h.owner_storage_full));
  lost.add({{"cause", "program_recursion"}}, static_cast<double>(h.program_recursion));
  Family untracked("leakwatch_ingress_untracked_sockets",
                   "Live TCP sockets of the last round whose ingress the full ledger could not follow (credited when "
                   "they close)",
                   MetricType::Gauge);
  untracked.add({}, static_cast<double>(h.untracked_sockets));
  // Ordinary churn, not a loss: a process that exits while it is read has
  // nothing left to account for.
  Family exited("leakwatch_processes_exited_mid_round_total",
                "Targeted processes that exited while a sampling round read them", MetricType::Counter);
  exited.add({}, static_cast<double>(h.processes_exited_mid_snapshot));
  Family closes("leakwatch_close_events_total", "TCP close events received from the kernel", MetricType::Counter);
  closes.add({}, static_cast<double>(h.close_events));
  Family unattributed("leakwatch_unattributed_tcp_received_bytes_total",
                      "Bytes of closed sockets whose process and cgroup were both unknown", MetricType::Counter);
  unattributed.add({}, static_cast<double>(h.unattributed_received_bytes));
  Family last("leakwatch_last_snapshot_timestamp_seconds", "When the last sampling round ended", MetricType::Gauge);
  last.add({}, std::chrono::duration<double>(s.taken_at.time_since_epoch()).count());
  Family success("leakwatch_collector_success", "1 when the last round read the source, 0 when it failed",
                 MetricType::Gauge);
  Family seconds("leakwatch_collector_duration_seconds", "How long the last round took to read the source",
                 MetricType::Gauge);
  Family errors("leakwatch_collector_errors_total",
                "Items of the source skipped because they could not be read (never the whole round)",
                MetricType::Counter);
  for (const auto& [name, c] : h.collectors) {
    const Labels l{{"collector", name}};
    success.add(l, c.success ? 1 : 0);
    seconds.add(l, c.seconds);
    errors.add(l, static_cast<double>(c.errors));
  }
  for (auto* f : {&duration, &snapshots, &sockets, &unseen, &processes, &exported, &cgroups, &lost, &untracked, &exited,
                  &closes, &unattributed, &last, &success, &seconds, &errors}) {
    out.push_back(f->take());
  }
}

}  // namespace

void MetricsExporter::publish(std::shared_ptr<const NodeSample> sample, std::vector<ActiveFinding> findings) {
  auto shared_findings = std::make_shared<const std::vector<ActiveFinding>>(std::move(findings));
  std::lock_guard lock(mutex_);
  sample_ = std::move(sample);
  findings_ = std::move(shared_findings);
}

void MetricsExporter::publish_health(const AgentHealth& health) {
  std::lock_guard lock(mutex_);
  if (!sample_) return;
  auto updated = std::make_shared<NodeSample>(*sample_);
  updated->health = health;
  sample_ = std::move(updated);
}

bool MetricsExporter::has_sample() const {
  std::lock_guard lock(mutex_);
  return sample_ != nullptr;
}

std::vector<MetricFamily> MetricsExporter::Collect() const {
  std::shared_ptr<const NodeSample> sample;
  std::shared_ptr<const std::vector<ActiveFinding>> findings;
  {
    std::lock_guard lock(mutex_);
    sample = sample_;
    findings = findings_;
  }
  std::vector<MetricFamily> out;
  Family build("leakwatch_build_info", "Version of the running agent and the node it runs on", MetricType::Gauge);
  Labels build_labels{{"version", LEAKWATCH_VERSION}};
  if (!info_.node.empty()) build_labels.push_back({"node", info_.node});
  build.add(std::move(build_labels), 1);
  out.push_back(build.take());
  if (!info_.kernel_release.empty()) {
    Family kernel("leakwatch_kernel_info", "Release of the kernel the BPF programs were loaded into",
                  MetricType::Gauge);
    kernel.add({{"release", info_.kernel_release}}, 1);
    out.push_back(kernel.take());
  }
  Family backend("leakwatch_backend_info", "Collection backend in use", MetricType::Gauge);
  backend.add({{"sockets", info_.socket_backend == "netlink" ? "sock_diag" : "bpf_iter_task_file"},
               {"closes", info_.closes},
               {"owners", owners_of_closes(info_.closes)},
               {"socket_identity", "inode"}},
              1);
  out.push_back(backend.take());
  if (info_.interval.count() > 0) {
    Family interval("leakwatch_sampling_interval_seconds", "How often the agent samples (--interval)",
                    MetricType::Gauge);
    interval.add({}, std::chrono::duration<double>(info_.interval).count());
    out.push_back(interval.take());
  }
  if (!sample) return out;
  const auto processes = exported_processes(sample->processes, *findings, limits_);
  export_processes(processes, out);
  export_findings(*findings, limits_.max_findings, out);
  export_cgroups(sample->cgroups, limits_.top_cgroups, out);
  export_node(sample->node, sample->held_sockets, out);
  export_health(*sample, processes.size(), out);
  const AlertDelivery alerts = alerts_ ? alerts_->snapshot() : AlertDelivery{};
  Family posts("leakwatch_alert_posts_total", "Posts of alerts to the Alertmanager, by result", MetricType::Counter);
  posts.add({{"result", "ok"}}, static_cast<double>(alerts.posts_ok));
  posts.add({{"result", "failed"}}, static_cast<double>(alerts.posts_failed));
  out.push_back(posts.take());
  Family dropped("leakwatch_alert_payloads_dropped_total",
                 "Alert payloads never posted: an active set replaced by a newer one before it could be posted "
                 "(superseded), or resolutions beyond the queue's bound (queue_full)",
                 MetricType::Counter);
  dropped.add({{"reason", "superseded"}}, static_cast<double>(alerts.dropped_superseded));
  dropped.add({{"reason", "queue_full"}}, static_cast<double>(alerts.dropped_queue_full));
  out.push_back(dropped.take());
  export_recordings(recordings_.get(), out);
  return out;
}

}  // namespace lw
