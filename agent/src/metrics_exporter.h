// Prometheus metrics from the latest NodeSample, rendered at scrape time.
// Cardinality is bounded by configuration, never by what the node has seen:
// per-process series for the top K processes by footprint and those with a
// finding (at most max_findings of them), per-cgroup
// series for the top K cgroups by usage, remote endpoints cut to the top N
// per process with the rest summed into one "other" series. Series of a
// process that exited vanish with the next sample.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "alertmanager_client.h"
#include "analyze/leak_detector.h"
#include "model/node_sample.h"
#include "process_recorder.h"

namespace lw {

struct ExportLimits {
  size_t top_processes = 50;
  size_t top_cgroups = 50;
  size_t max_findings = 50;  // processes with a finding get series even outside the top K
};

// What the agent says about itself on every scrape.
struct AgentInfo {
  std::string node;                       // leakwatch_build_info{node}: dashboards pick agents by node
  std::chrono::milliseconds interval{0};  // leakwatch_sampling_interval_seconds: alerts scale with it
  std::string kernel_release;             // leakwatch_kernel_info{release}: what the BPF programs run on
  std::string socket_backend = "bpf";     // leakwatch_backend_info{sockets}: "bpf" or "netlink"
  // leakwatch_backend_info{closes}: CloseEventSource::name(), or "none"
  std::string closes = "tp_btf_inet_sock_set_state";
};

class MetricsExporter : public prometheus::Collectable {
 public:
  // alerts: the alert sender's counters, read at scrape time (null: no
  // --alertmanager-url, and every count is 0).
  // recordings: the --record-dir counters, read at scrape time (null: no
  // recordings, and no such series).
  explicit MetricsExporter(ExportLimits limits, AgentInfo info = {},
                           std::shared_ptr<const AlertCounters> alerts = nullptr,
                           std::shared_ptr<const RecordingCounters> recordings = nullptr)
      : limits_(limits), info_(std::move(info)), alerts_(std::move(alerts)), recordings_(std::move(recordings)) {}
  void publish(std::shared_ptr<const NodeSample> sample, std::vector<ActiveFinding> findings = {});
  // After a failed round: the last sample stays, with the health that says
  // what failed (nothing before the first sample).
  void publish_health(const AgentHealth& health);
  // Whether a sample was published: readiness for the agent's probe.
  bool has_sample() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  ExportLimits limits_;
  AgentInfo info_;
  mutable std::mutex mutex_;
  std::shared_ptr<const NodeSample> sample_;
  std::shared_ptr<const std::vector<ActiveFinding>> findings_;
  const std::shared_ptr<const AlertCounters> alerts_;          // atomics: read without mutex_
  const std::shared_ptr<const RecordingCounters> recordings_;  // atomics: read without mutex_
};

}  // namespace lw
