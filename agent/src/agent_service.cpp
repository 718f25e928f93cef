#include "agent_service.h"

#include <prometheus/exposer.h>
#include <signal.h>

#include <cerrno>
#include <ctime>
#include <iostream>
#include <variant>

#include "leakwatch/agent_config.h"
#include "leakwatch/close_events.h"
#include "leakwatch/error.h"
#include "leakwatch/exit_codes.h"
#include "leakwatch/log.h"
#include "leakwatch/metrics_exporter.h"
#include "leakwatch/node_sampler.h"
#include "leakwatch/socket_iterator.h"

namespace lw {
namespace {

using Clock = std::chrono::steady_clock;

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Waits up to timeout for SIGTERM or SIGINT; true when one arrived. The
// signals are blocked in every thread, so this is where they are delivered.
bool wait_for_stop(std::chrono::nanoseconds timeout) {
  const sigset_t set = stop_signals();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec ts{static_cast<time_t>(secs.count()), static_cast<long>((timeout - secs).count())};
  for (;;) {
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) {
      log::info("stopping on {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      return true;
    }
    if (errno == EAGAIN) return false;
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

void sample_until_stopped(NodeSampler& sampler, MetricsExporter& exporter, std::chrono::milliseconds interval) {
  auto next = Clock::now();
  do {
    try {
      exporter.publish(std::make_shared<const NodeSample>(sampler.sample()));
    } catch (const Error& e) {
      // Counted in leakwatch_snapshots_total{result="failed"}; the next
      // round may succeed (a transient kernel or /proc error).
      log::error("sampling round failed: {}", e.what());
    }
    next += interval;
    const auto now = Clock::now();
    if (next < now) next = now;  // a slow round delays the next, never bunches them
  } while (!wait_for_stop(next - Clock::now()));
}

int run(const AgentConfig& config) {
  log::configure(config.log_level, config.log_format);
  // Before any thread exists, so every thread inherits the mask and the
  // stop signals reach only sigtimedwait.
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  SocketIterator sockets;
  CloseEventSource close_events(config.ring_buffer_bytes);
  NodeSampler sampler(sockets, close_events, config.paths, target_filter(config), config.top_endpoints);
  auto exporter = std::make_shared<MetricsExporter>(
      ExportLimits{.top_processes = config.top_processes, .top_cgroups = config.top_processes});
  const auto exposer = listen(config.listen_address);
  exposer->RegisterCollectable(exporter);
  log::info("serving metrics on http://{}/metrics, sampling every {} ms", served_address(config.listen_address, *exposer),
            config.interval.count());
  sample_until_stopped(sampler, *exporter, config.interval);
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
