// Real processes that really leak (and healthy ones that only look busy),
// watched by `leakwatch inspect PID --watch` and by leakwatch-agent, as
// users run them. Each leaking scenario must be named with the right kind
// and the right top contributor; each healthy control must produce no
// finding over the same time.
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <sstream>
#include <thread>

#include "../unit/fake_files.h"
#include "bpf_test_support.h"
#include "run_command.h"
#include "running_agent.h"

namespace lw::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kWatch = "20s";

struct Scenario {
  std::string name;
  // Starts the processes; returns the one to watch. `port` is the server's.
  std::function<pid_t(std::vector<std::unique_ptr<ChildProcess>>& held, std::string& port)> start;
  std::optional<std::string> kind;  // nullopt: a healthy control
  // The expected top contributor, "{port}" standing for the server's port.
  std::string contributor;
};

// Test names show the scenario's name, not its bytes.
void PrintTo(const Scenario& sc, std::ostream* os) { *os << sc.name; }

std::string server(std::vector<std::unique_ptr<ChildProcess>>& held, const std::vector<std::string>& args) {
  std::vector<std::string> all{"serve", "--bind", "127.0.0.1", "--port", "0"};
  all.insert(all.end(), args.begin(), args.end());
  held.push_back(start_workload(all));
  return held.back()->expect_line("ready ");
}

pid_t client(std::vector<std::unique_ptr<ChildProcess>>& held, const std::string& port,
             const std::vector<std::string>& args) {
  std::vector<std::string> all{"connect", "--to", "127.0.0.1", "--port", port};
  all.insert(all.end(), args.begin(), args.end());
  held.push_back(start_workload(all));
  held.back()->expect_line("ready ");
  return held.back()->pid();
}

pid_t alone(std::vector<std::unique_ptr<ChildProcess>>& held, const std::vector<std::string>& args) {
  held.push_back(start_workload(args));
  held.back()->expect_line("ready");
  return held.back()->pid();
}

// Abstract: nothing to remove when its process is killed.
std::string unix_listener_name() { return "@leakwatch-scenario-" + std::to_string(getpid()); }

std::vector<Scenario> scenarios() {
  return {
      // Linux >= 6.16 grows a receive buffer only by what the reader
      // emptied, so a slow reader sets SO_RCVBUF, as proxies commonly do.
      {"SlowReaderOfAStream",
       [](auto& held, auto& port) {
         port = server(held, {"--stream", "--rate", "400000"});
         return client(held, port, {"--count", "4", "--read-rate", "200000", "--rcvbuf", "8388608"});
       },
       "socket-receive-backlog", "127.0.0.1:{port}"},
      {"AbandonedPooledStreams",
       [](auto& held, auto& port) {
         port = server(held, {"--stream", "--rate", "100000"});
         return client(held, port, {"--count", "0", "--open-every", "1000"});
       },
       "socket-receive-backlog", "127.0.0.1:{port}"},
      {"SlowConsumersOfABroadcast",
       [](auto& held, auto& port) {
         port = server(held, {"--stream"});
         client(held, port, {"--count", "0", "--open-every", "500"});
         return held.front()->pid();
       },
       "socket-send-backlog", "127.0.0.1->:{port}"},
      // A publisher owes each subscriber 1 MB/s and keeps what a socket
      // does not take; one subscriber stopped reading. Once the kernel's
      // queue to it is full, the publisher's heap grows: the verdict names
      // the stalled peer, not a heap leak.
      {"StalledSubscriberOfAFanOut",
       [](auto& held, auto& port) {
         port = server(held, {"--stream", "--rate", "1000000", "--keep-unsent"});
         client(held, port, {"--count", "2", "--read-rate", "100000000"});
         client(held, port, {"--count", "1", "--rcvbuf", "65536"});
         return held.front()->pid();
       },
       "socket-send-backlog", "127.0.0.1->:{port}"},
      {"ConnectionLeak",
       [](auto& held, auto& port) {
         port = server(held, {});
         return client(held, port, {"--count", "0", "--open-every", "200"});
       },
       "connection-leak", "127.0.0.1:{port}"},
      {"CloseWaitLeak",
       [](auto& held, auto& port) {
         port = server(held, {"--close-on-accept"});
         return client(held, port, {"--count", "0", "--open-every", "200"});
       },
       "close-wait-leak", "127.0.0.1:{port}"},
      {"HeapGrowth",
       [](auto& held, auto&) {
         return alone(held, {"heap-grow", "--bytes-per-second", "5000000"});
       },
       "heap-growth", ""},
      {"FdLeak",
       [](auto& held, auto&) {
         return alone(held, {"fd-leak", "--every", "100"});
       },
       "fd-leak", ""},
      {"TooFewWorkers",
       [](auto& held, auto& port) {
         port = server(held, {"--no-accept", "--backlog", "128"});
         client(held, port, {"--count", "50"});
         return held.front()->pid();
       },
       "listen-backlog", ":{port}"},
      // The same behind nginx on a unix socket, full: connect() fails.
      {"TooFewWorkersBehindAUnixSocket",
       [](auto& held, auto&) {
         return alone(held, {"unix-backlog", "--path", unix_listener_name(), "--backlog", "16", "--connect", "40"});
       },
       "listen-backlog", unix_listener_name()},
      {"ControlStreamReadPromptly",
       [](auto& held, auto& port) {
         port = server(held, {"--stream", "--rate", "5000000"});
         return client(held, port, {"--count", "4", "--read-every", "10"});
       },
       std::nullopt, ""},
      {"ControlHeavyChurn",
       [](auto& held, auto& port) {
         port = server(held, {"--send-bytes", "1000", "--close-after-send"});
         held.push_back(start_workload(
             {"churn", "--to", "127.0.0.1", "--port", port, "--count", "500", "--parallel", "8", "--forever"}));
         held.back()->expect_line("done ");
         return held.back()->pid();
       },
       std::nullopt, ""},
      {"ControlCacheWarmingUp",
       [](auto& held, auto&) {
         return alone(held, {"heap-grow", "--bytes-per-second", "20000000", "--cap", "40000000"});
       },
       std::nullopt, ""},
      // Five more connections a second, each streamed 2 KB/s and read as
      // it comes: demand (a pool filling up, a morning's WebSockets), not
      // a leak, because the connections carry data.
      {"ControlBusyConnectionsGrowing",
       [](auto& held, auto& port) {
         port = server(held, {"--stream", "--rate", "2000"});
         return client(held, port, {"--count", "0", "--open-every", "200", "--read-rate", "10000000"});
       },
       std::nullopt, ""},
      {"ControlBacklogDrainedSteadily",
       [](auto& held, auto& port) {
         port = server(held, {"--send-bytes", "20000000", "--count", "1"});
         return client(held, port, {"--count", "1", "--read-rate", "1000000", "--rcvbuf", "16777216"});
       },
       std::nullopt, ""},
  };
}

class WatchScenario : public BpfTest, public ::testing::WithParamInterface<Scenario> {
 protected:
  // The expected top contributor, with the server's real port.
  static std::string expected_contributor(const Scenario& sc, const std::string& port) {
    std::string expected = sc.contributor;
    if (const auto at = expected.find("{port}"); at != std::string::npos) expected.replace(at, 6, port);
    return expected;
  }
};

// The agent's "leak finding started" events, from its JSON log.
std::vector<nlohmann::json> started_findings(const std::string& log) {
  std::vector<nlohmann::json> started;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(R"("msg":"leak finding started")") == std::string::npos) continue;
    started.push_back(nlohmann::json::parse(line));
  }
  return started;
}

TEST_P(WatchScenario, VerdictNamesTheRightLeakOrNone) {
  const Scenario& sc = GetParam();
  std::vector<std::unique_ptr<ChildProcess>> held;
  std::string port;
  const pid_t pid = sc.start(held, port);

  const TempDir dir;
  const std::string recording = (dir.path() / "watch.jsonl").string();
  ChildProcess watch({LW_CLI_PATH, "inspect", std::to_string(pid), "--watch", kWatch, "--interval", "1s",
                      "--stall-after", "5s", "--json", "--record", recording});
  std::string out;
  while (auto line = watch.read_line(60s)) out += *line + "\n";
  const int status = watch.wait();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  const auto report = nlohmann::json::parse(out);
  const auto& findings = report["watch"]["findings"];
  // The recording, read back, gives the same verdict to the last field.
  const auto replay = run_command({LW_CLI_PATH, "analyze", recording, "--json"}, Output::capture);
  EXPECT_EQ(replay.exit_code, WEXITSTATUS(status)) << replay.err;
  EXPECT_EQ(nlohmann::json::parse(replay.out)["watch"], report["watch"]);
  if (!sc.kind) {
    EXPECT_EQ(WEXITSTATUS(status), 0) << findings.dump(2);
    EXPECT_TRUE(findings.empty()) << findings.dump(2);
    return;
  }
  EXPECT_EQ(WEXITSTATUS(status), 10) << "a leak was found";
  ASSERT_FALSE(findings.empty()) << "no finding for " << sc.name;
  EXPECT_EQ(findings[0]["kind"], *sc.kind) << findings.dump(2);
  if (!sc.contributor.empty()) {
    ASSERT_FALSE(findings[0]["top_contributors"].empty()) << findings.dump(2);
    EXPECT_EQ(findings[0]["top_contributors"][0]["endpoint"], expected_contributor(sc, port)) << findings.dump(2);
  }
  EXPECT_FALSE(findings[0]["explanation"].get<std::string>().empty());
  EXPECT_FALSE(findings[0]["suggested_fix"].get<std::string>().empty());
}

// The same scenario through the agent, as a DaemonSet would see it: the
// finding exported, and its start logged with the top contributor.
TEST_P(WatchScenario, AgentNamesTheRightLeakOrNone) {
  const Scenario& sc = GetParam();
  std::vector<std::unique_ptr<ChildProcess>> held;
  std::string port;
  const std::string pid = std::to_string(sc.start(held, port));
  RunningAgent agent(LW_AGENT_PATH, {"--pid", pid, "--interval", "1s", "--analysis-window", kWatch, "--stall-after",
                                     "5s", "--log-format", "json"});
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::optional<nlohmann::json> event;
  while (std::chrono::steady_clock::now() < deadline && !event) {
    std::this_thread::sleep_for(1s);
    for (const auto& e : started_findings(agent.log())) {
      if (sc.kind && e["kind"] == *sc.kind) event = e;
    }
  }
  if (!sc.kind) {
    EXPECT_TRUE(started_findings(agent.log()).empty()) << agent.log();
    EXPECT_TRUE(agent.scrape().find("leakwatch_leak_suspected").empty());
    return;
  }
  ASSERT_TRUE(event) << "the agent never reported " << *sc.kind << "; its log:\n" << agent.log();
  EXPECT_EQ((*event)["pid"], std::stoi(pid));
  EXPECT_EQ(agent.scrape().find("leakwatch_leak_suspected", {{"pid", pid}, {"kind", *sc.kind}}).size(), 1u)
      << agent.log();
  // It holds while the leak goes on: no end and restart.
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(agent.log().find(R"("msg":"leak finding ended")"), std::string::npos) << agent.log();
  if (!sc.contributor.empty()) {
    ASSERT_FALSE((*event)["top_contributors"].empty()) << event->dump(2);
    EXPECT_EQ((*event)["top_contributors"][0]["endpoint"], expected_contributor(sc, port)) << event->dump(2);
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, WatchScenario, ::testing::ValuesIn(scenarios()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace lw::test
