#include "agent_service.h"

#include <prometheus/exposer.h>
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <iterator>
#include <optional>
#include <variant>

#include "agent_config.h"
#include "alertmanager_client.h"
#include "analyze/leak_detector.h"
#include "analyze/paging.h"
#include "collect/host_paths.h"
#include "collect/node_sampler.h"
#include "collect/socket_close.h"
#include "collect/socket_source.h"
#include "metrics_exporter.h"
#include "output/report_json.h"
#include "process_recorder.h"
#include "util/error.h"
#include "util/exit_codes.h"
#include "util/log.h"

namespace lw {
namespace {

using Clock = std::chrono::steady_clock;

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  // A terminal closing or a supervisor's reload request would otherwise
  // kill the agent (SIGHUP's default action); it is received and ignored.
  sigaddset(&set, SIGHUP);
  return set;
}

// Waits up to timeout for SIGTERM or SIGINT; true when one arrived. The
// signals are blocked in every thread, so this is where they are delivered.
// A timeout already past (a round that outlasted the interval) only polls:
// the kernel answers a negative one with EINVAL, which must not spin.
bool wait_for_stop(std::chrono::nanoseconds timeout) {
  const sigset_t set = handled_signals();
  timeout = std::max(timeout, std::chrono::nanoseconds(0));
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec ts{static_cast<time_t>(secs.count()), static_cast<long>((timeout - secs).count())};
  for (;;) {
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGHUP) {
      log::warn("SIGHUP ignored: the configuration is read only at start; restart the agent to change it");
      continue;
    }
    if (sig > 0) {
      log::info("stopping on {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      return true;
    }
    if (errno == EAGAIN) return false;
    if (errno != EINTR) {
      const int err = errno;
      throw Error(ErrorKind::io, fmt::format("waiting for a stop signal failed: {}", std::strerror(err)), err);
    }
    // EINTR: another signal interrupted the wait; the remaining time is
    // not reported, so waiting the full timeout again errs on sampling late.
  }
}

TargetFilter target_filter(const AgentConfig& config) {
  TargetFilter filter;
  filter.pids = config.pids;
  if (!config.comm_pattern.empty()) filter.comm = std::regex(config.comm_pattern, std::regex::ECMAScript);
  filter.cgroup_prefix = config.cgroup_prefix;
  return filter;
}

std::unique_ptr<prometheus::Exposer> listen(const std::string& address) {
  try {
    return std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::usage, fmt::format("cannot listen on {} ({}): the port is in use or the address is not "
                                              "this host's; choose another --listen-address",
                                              address, e.what()));
  }
}

std::string served_address(const std::string& configured, const prometheus::Exposer& exposer) {
  const auto ports = exposer.GetListeningPorts();
  const std::string host = configured.substr(0, configured.rfind(':'));
  return fmt::format("{}:{}", host, ports.empty() ? 0 : ports.front());
}

// Where the agent runs, for alert labels and leakwatch_build_info: the
// DaemonSet passes the node name; elsewhere the host name says it.
std::string node_name() {
  if (const char* node = std::getenv("NODE_NAME"); node && *node) return node;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return host;
}

std::string kernel_release() {
  utsname names{};
  return uname(&names) == 0 ? names.release : "";
}

nlohmann::ordered_json finding_fields(const ActiveFinding& f) {
  auto fields = to_json(f.finding);
  fields["pid"] = f.process ? nlohmann::ordered_json(f.process->pid) : nlohmann::ordered_json(nullptr);
  fields["comm"] = f.comm;
  fields["cgroup"] = f.cgroup;
  for (const auto& [name, value] : pod_labels(f.pod)) fields[name] = value;
  return fields;
}

// In a container with a cgroup namespace of its own, the agent reads other
// processes' cgroups only once it knows where that namespace is rooted.
void log_cgroup_namespace(const CgroupNamespace& ns) {
  for (const auto& [name, root] : {std::pair{"unified", &ns.unified()}, std::pair{"memory", &ns.memory()}}) {
    if (!root->found) {
      log::warn(
          "cannot find where this container's cgroup namespace is rooted in the {} hierarchy: cgroup paths "
          "stay relative and cgroup memory is not read; mount the host's cgroup filesystem with --host-cgroup",
          name);
    } else if (root->path != "/") {
      log::info("cgroup namespace rooted at {} in the {} hierarchy: cgroup paths are rewritten to host paths",
                root->path, name);
    }
  }
}

void log_changes(const std::vector<FindingChange>& changes) {
  for (const auto& c : changes) {
    log::event(c.started ? log::Level::warn : log::Level::info,
               c.started ? "leak finding started" : "leak finding ended", finding_fields(c.finding));
  }
}

// What one round does after sampling: diagnose, publish, tell. The log
// comes after the publish, so whoever reads of a finding in the log and
// then scrapes finds it exported.
struct Outputs {
  LeakDetector& detector;
  PagingRule& paging;
  ProcessRecorder* recorder;  // null without --record-dir
  MetricsExporter& exporter;
  AlertSender* alerts;  // null without --alertmanager-url; enqueue only, never waits on the network
};

void sample_once(NodeSampler& sampler, Outputs& out) {
  const auto sample = std::make_shared<const NodeSample>(sampler.sample());
  const double now = std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  out.detector.update(*sample, now);
  if (out.recorder) out.recorder->record(*sample, now);
  const std::vector<FindingChange> changes = out.detector.take_changes();
  std::vector<ActiveFinding> findings = out.detector.active();
  const auto paging_changes = out.paging.update(findings, now);
  if (out.alerts) {
    std::vector<ActiveFinding> paging;
    std::ranges::copy_if(findings, std::back_inserter(paging), &ActiveFinding::paging);
    out.alerts->enqueue(std::move(paging), paging_changes);
  }
  out.exporter.publish(sample, std::move(findings));
  log_changes(changes);
}

// How often close events are taken from the kernel between rounds: the
// 4 MiB ring buffer holds about 52,000, so this keeps up with 500,000
// closes a second whatever the interval (about 28,000 a second is the most
// this machine opens and closes on loopback).
constexpr auto kCloseDrainPeriod = std::chrono::milliseconds(100);

// Waits for the round due at `next`, taking close events meanwhile; true
// when a stop signal came.
bool wait_for_round(NodeSampler& sampler, Clock::time_point next) {
  for (;;) {
    const auto left = next - Clock::now();
    if (wait_for_stop(std::min<Clock::duration>(left, kCloseDrainPeriod))) return true;
    if (Clock::now() >= next) return false;
    try {
      sampler.drain_closes();
    } catch (const Error& e) {
      // The round's own drain fails the same way and is counted there.
      log::error("taking close events between rounds failed: {}", e.what());
      return wait_for_stop(next - Clock::now());
    }
  }
}

void sample_until_stopped(NodeSampler& sampler, Outputs& outputs, std::chrono::milliseconds interval) {
  auto next = Clock::now();
  do {
    try {
      sample_once(sampler, outputs);
    } catch (const Error& e) {
      // Counted in leakwatch_snapshots_total{result="failed"} and shown by
      // leakwatch_collector_success; the next round may succeed (a
      // transient kernel or /proc error).
      log::error("sampling round failed: {}", e.what());
      outputs.exporter.publish_health(sampler.health());
    }
    next += interval;
    const auto now = Clock::now();
    if (next < now) next = now;  // a slow round delays the next, never bunches them
  } while (!wait_for_round(sampler, next));
}

int run(const AgentConfig& config) {
  log::configure(config.log_level, config.log_format);
  require_host_paths(config.paths);
  if (!config.record_dir.empty()) prepare_recording_dir(config.record_dir);
  // Before any thread exists, so every thread inherits the mask and the
  // stop signals reach only sigtimedwait.
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto opened = open_socket_source(config.backend, config.paths);
  if (!opened.fallback_reason.empty()) log::warn("{}", opened.fallback_reason);
  const auto close_events = open_close_events(config.backend, *opened.source, config.ring_buffer_bytes,
                                              [](const std::string& why) { log::warn("{}", why); });
  NodeSampler sampler(*opened.source, close_events.get(), config.paths, target_filter(config), config.top_endpoints,
                      config.analysis.stall_after_seconds);
  log_cgroup_namespace(sampler.cgroup_namespace());
  if (config.analysis_window_widened) {
    log::info("analysis window widened to {:g}s: a verdict needs {} samples, taken every {} ms",
              config.analysis.window_seconds, config.analysis.min_samples, config.interval.count());
  }
  // Alertmanager resolves an alert that is not posted again by its end time;
  // a few missed rounds must not resolve it.
  const auto valid_for =
      std::max(std::chrono::seconds(60), std::chrono::duration_cast<std::chrono::seconds>(4 * config.interval));
  // Before the exposer's threads: libcurl is initialized on this thread.
  std::unique_ptr<AlertSender> alerts;
  if (!config.alertmanager.url.empty()) {
    AlertSenderOptions options;
    options.node = node_name();
    options.valid_for = valid_for;
    options.target = config.alertmanager.url;
    alerts = std::make_unique<AlertSender>(make_curl_poster(config.alertmanager), std::move(options));
  }
  std::unique_ptr<ProcessRecorder> recorder;
  if (!config.record_dir.empty()) {
    recorder = std::make_unique<ProcessRecorder>(RecorderOptions{
        .directory = config.record_dir,
        .max_bytes = config.record_max_bytes,
        .interval_seconds = std::chrono::duration<double>(config.interval).count(),
        .analysis = config.analysis,
        .backend = std::string(opened.source->name()),
        .paths = config.paths,
    });
  }
  auto exporter = std::make_shared<MetricsExporter>(
      ExportLimits{.top_processes = config.top_processes,
                   .top_cgroups = config.top_processes,
                   .max_findings = config.top_processes},
      AgentInfo{.node = node_name(),
                .interval = config.interval,
                .kernel_release = kernel_release(),
                .socket_backend = std::string(opened.source->name()),
                .closes = close_events ? std::string(close_events->name()) : "none"},
      alerts ? alerts->counters() : nullptr, recorder ? recorder->counters() : nullptr);
  LeakDetector detector(config.analysis);
  PagingRule paging(std::chrono::duration<double>(config.page_after).count());
  Outputs outputs{detector, paging, recorder.get(), *exporter, alerts.get()};
  const auto exposer = listen(config.listen_address);
  exposer->RegisterCollectable(exporter);
  log::info("serving metrics on http://{}/metrics, sampling every {} ms",
            served_address(config.listen_address, *exposer), config.interval.count());
  sample_until_stopped(sampler, outputs, config.interval);
  // One last post of what is pending, bounded in time, before the exit.
  if (alerts) alerts->stop();
  return kExitOk;
}

}  // namespace

int run_agent(int argc, char** argv) {
  return exit_code_of("leakwatch-agent", [&] {
    const auto parsed = parse_agent_config(argc, argv);
    if (const auto* help = std::get_if<HelpText>(&parsed)) {
      std::cout << help->text << (help->text.ends_with('\n') ? "" : "\n");
      return static_cast<int>(kExitOk);
    }
    return run(std::get<AgentConfig>(parsed));
  });
}

}  // namespace lw
