// leakwatch-agent's cost, in one run: CPU time per sampling round and
// resident memory (between rounds and at its peak) at the given socket
// counts (10,000 and 50,000 by default), and loopback
// throughput (iperf3) with and without the agent running. Not a test: it
// reports figures, it asserts nothing.
#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../tests/unit/fake_files.h"
#include "bench_support.h"
#include "child_process.h"
#include "collect/pod_identity.h"
#include "prometheus_scrape.h"
#include "socket_fleet.h"

namespace {

using namespace lw::bench;
using lw::test::ChildProcess;
using namespace std::chrono_literals;

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A full node's kubelet log directory (110 pods, the kubelet's default
// maximum, with 3 containers each), which the agent re-indexes every round
// for pod identity.
constexpr int kPods = 110, kContainersPerPod = 3;

void fill_kubelet_logs(const std::filesystem::path& log_root) {
  for (int pod = 0; pod < kPods; ++pod) {
    const std::string uid = fmt::format("6f2c1a4e-9b1d-4c1e-8a57-{:012d}", pod);
    for (int c = 0; c < kContainersPerPod; ++c) {
      lw::test::add_kubelet_container_log(log_root, "bench", fmt::format("pod-{}", pod), uid, fmt::format("c{}", c),
                                          fmt::format("{:064x}", pod * 10 + c));
    }
  }
}

// Milliseconds per call of `f`, over 50 calls.
template <typename F>
double mean_ms(F&& f) {
  constexpr int kCalls = 50;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / kCalls;
}

// What pod identity costs a round: reading the directory again (only when
// the kubelet changed it) and checking that it did not change (every round).
std::string pod_index_costs(const std::filesystem::path& log_root) {
  lw::KubeletLogSource source(log_root);
  const double listing = mean_ms([&] { source.list_pods(); });
  std::this_thread::sleep_for(1100ms);  // past the slack a fresh change gets
  source.list_pods();
  const double check = mean_ms([&] { source.may_have_changed(); });
  return fmt::format(
      "re-reading it {:.2f} ms (rounds after the kubelet changed it), checking it {:.3f} ms (other "
      "rounds)",
      listing, check);
}

class RunningAgent {
 public:
  RunningAgent(const std::string& agent, const std::string& interval, const std::string& kubelet_logs,
               const std::string& backend = "bpf")
      : process_({agent, "--listen-address", "127.0.0.1:0", "--interval", interval, "--log-level", "info", "--host-log",
                  kubelet_logs, "--backend", backend},
                 true) {
    port_ =
        static_cast<uint16_t>(std::stoi(process_.expect_line("leakwatch: info: serving metrics on http://127.0.0.1:")));
  }
  pid_t pid() const { return process_.pid(); }
  lw::test::Scrape scrape() const { return lw::test::scrape(port_); }
  double rounds() const { return scrape().value("leakwatch_snapshots_total", {{"result", "ok"}}).value_or(0); }

 private:
  ChildProcess process_;
  uint16_t port_ = 0;
};

struct AgentCost {
  std::string backend;
  int sockets = 0;
  double cpu_ms_per_round = 0;
  double wall_ms_per_round = 0;
  double rss_mib = 0;
  double peak_rss_mib = 0;
};

// The agent's cost on the sockets of the machine as they are (a fleet the
// caller holds open).
AgentCost measure_agent(const std::string& agent, const std::string& kubelet_logs, const std::string& backend,
                        int rounds) {
  RunningAgent running(agent, "1s", kubelet_logs, backend);
  while (running.rounds() < 2) std::this_thread::sleep_for(100ms);
  const auto before = running.scrape();
  const double cpu0 = cpu_seconds(running.pid());
  const double rounds0 = before.value("leakwatch_snapshots_total", {{"result", "ok"}}).value_or(0);
  while (running.rounds() < rounds0 + rounds) std::this_thread::sleep_for(100ms);
  const double cpu1 = cpu_seconds(running.pid());
  const auto after = running.scrape();
  const double done = after.value("leakwatch_snapshots_total", {{"result", "ok"}}).value_or(0) - rounds0;
  const double wall = after.value("leakwatch_snapshot_duration_seconds_sum").value_or(0) -
                      before.value("leakwatch_snapshot_duration_seconds_sum").value_or(0);
  return {backend,
          static_cast<int>(after.value("leakwatch_sockets_seen").value_or(0)),
          1000 * (cpu1 - cpu0) / done,
          1000 * wall / done,
          rss_mib(running.pid()),
          peak_rss_mib(running.pid())};
}

// Connections opened and closed as fast as lw-workload churn can on
// loopback, between two rounds of an agent at `interval`.
struct ClosesHeld {
  std::string interval;
  int connections = 0;
  double connections_per_second = 0;
  double events = 0;        // close events the agent took (two per connection, and the node's own)
  double ring_lost = 0;     // dropped by the kernel: the ring buffer was full
  double backlog_lost = 0;  // dropped by the agent: owner unknown, no room to wait
};

ClosesHeld measure_closes(const std::string& agent, const std::string& workload, const std::string& kubelet_logs,
                          const std::string& interval, int connections) {
  RunningAgent running(agent, interval, kubelet_logs);
  while (running.rounds() < 1) std::this_thread::sleep_for(100ms);
  const auto before = running.scrape();
  ChildProcess server(
      {workload, "serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "1000", "--close-after-send"});
  const std::string port = server.expect_line("ready ");
  const auto start = Clock::now();
  ChildProcess churn({workload, "churn", "--to", "127.0.0.1", "--port", port, "--count", std::to_string(connections),
                      "--parallel", "4", "--max-seconds", "300"});
  churn.expect_line("done ", std::chrono::minutes(5));
  const double seconds = ms_since(start) / 1000;
  // The closes are all taken by the round after the churn at the latest.
  const double rounds_done = running.rounds();
  while (running.rounds() < rounds_done + 1) std::this_thread::sleep_for(100ms);
  const auto after = running.scrape();
  const auto grew = [&](const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return after.value(name, labels).value_or(0) - before.value(name, labels).value_or(0);
  };
  return {interval,
          connections,
          connections / seconds,
          grew("leakwatch_close_events_total"),
          grew("leakwatch_events_lost_total", {{"cause", "close_ring_buffer_full"}}),
          grew("leakwatch_events_lost_total", {{"cause", "close_backlog_full"}})};
}

// One iperf3 run on loopback; bits per second received.
double iperf3_bps(const std::string& port, int seconds) {
  ChildProcess client({"iperf3", "-c", "127.0.0.1", "-p", port, "-t", std::to_string(seconds), "-J"});
  std::string json;
  while (auto line = client.read_line(std::chrono::seconds(seconds + 30))) json += *line + "\n";
  return nlohmann::json::parse(json)["end"]["sum_received"]["bits_per_second"].get<double>();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leakwatch-agent benchmark: CPU, memory, and loopback throughput with and without it"};
  std::string agent = LW_AGENT_PATH, workload = LW_WORKLOAD_PATH, baseline;
  int rounds = 10, seconds = 5, repeat = 3, closes = 200000;
  std::vector<int> socket_counts{10000, 50000};
  std::vector<std::string> close_intervals{"5s", "60s"}, backends{"bpf", "netlink"};
  app.add_option("--agent", agent, "leakwatch-agent binary")->capture_default_str();
  app.add_option("--workload", workload, "lw-workload binary")->capture_default_str();
  app.add_option("--baseline", baseline,
                 "Another leakwatch-agent build (an earlier commit's), measured right after --agent on the same "
                 "sockets")
      ->check(CLI::ExistingFile);
  app.add_option("--sockets", socket_counts, "Socket counts to measure the agent at")->capture_default_str();
  app.add_option("--backends", backends, "Backends to measure the agent with at each socket count")
      ->capture_default_str()
      ->check(CLI::IsMember({"bpf", "netlink"}));
  app.add_option("--rounds", rounds, "Sampling rounds (1 s apart) per measurement")->check(CLI::Range(2, 600));
  app.add_option("--seconds", seconds, "Length of one iperf3 run")->check(CLI::Range(1, 60));
  app.add_option("--repeat", repeat, "iperf3 runs with and without the agent, alternating")->check(CLI::Range(1, 20));
  app.add_option("--closes", closes, "Connections opened and closed between two rounds")
      ->capture_default_str()
      ->check(CLI::Range(1000, 2000000));
  app.add_option("--close-intervals", close_intervals, "Agent intervals to measure the closes at")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const lw::test::TempDir kubelet_logs;
  fill_kubelet_logs(kubelet_logs.path());
  std::cout << "Machine: " << machine_description() << "\n";
  std::cout << fmt::format("Kubelet log directory: {} pods x {} containers (--host-log); for pod identity: {}\n\n",
                           kPods, kContainersPerPod, pod_index_costs(kubelet_logs.path()));
  std::cout << "| agent | backend | sockets on the machine | agent CPU per round (ms) | round wall time (ms) | agent "
               "RSS (MiB) "
               "| agent peak RSS (MiB) |\n|---|---|---:|---:|---:|---:|---:|\n";
  for (const int n : socket_counts) {
    // Each backend, and each build with --baseline, on the same sockets one after the other.
    const lw::test::SocketFleet fleet(workload, n, std::min(18000, n / 2 - 1));
    for (const std::string& backend : backends) {
      for (const std::string& binary : {agent, baseline}) {
        if (binary.empty()) continue;
        const AgentCost c = measure_agent(binary, kubelet_logs.path().string(), backend, rounds);
        std::cout << fmt::format("| {} | {} | {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} |\n",
                                 binary == agent ? "this build" : "baseline", c.backend, c.sockets, c.cpu_ms_per_round,
                                 c.wall_ms_per_round, c.rss_mib, c.peak_rss_mib)
                  << std::flush;
      }
    }
  }

  std::cout << fmt::format(
      "\nClose events: {} loopback connections opened and closed as fast as 4 parallel clients can, between two "
      "rounds (4 MiB ring buffer, the default)\n\n| agent interval | connections/s | close events taken | lost: ring "
      "buffer full | lost: backlog full |\n|---|---:|---:|---:|---:|\n",
      closes);
  for (const auto& interval : close_intervals) {
    const ClosesHeld c = measure_closes(agent, workload, kubelet_logs.path().string(), interval, closes);
    std::cout << fmt::format("| {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} |\n", c.interval, c.connections_per_second,
                             c.events, c.ring_lost, c.backlog_lost)
              << std::flush;
  }

  const std::string port = "5201";
  ChildProcess server({"iperf3", "-s", "-B", "127.0.0.1", "-p", port});
  std::this_thread::sleep_for(500ms);
  Series without{"without the agent", {}}, with{"with the agent (1 s interval)", {}};
  for (int i = 0; i < repeat; ++i) {
    without.values.push_back(iperf3_bps(port, seconds) / 1e9);
    RunningAgent running(agent, "1s", kubelet_logs.path().string());
    with.values.push_back(iperf3_bps(port, seconds) / 1e9);
  }
  std::cout << fmt::format(
      "\nLoopback TCP throughput (iperf3, {} s runs, median of {}): without {:.2f} Gbit/s, "
      "with {:.2f} Gbit/s: {:.1f}%\n",
      seconds, repeat, without.median(), with.median(), 100 * with.median() / without.median());
  return 0;
}
