// How soon leakwatch-agent names each leak of the scenario tests
// (tests/scenario/watch_scenario_test.cpp), and whether it stays quiet on
// their healthy controls, in one run: real lw-workload processes on loopback,
// the real agent watching one PID, its /metrics scraped once a second. Not a
// test: it reports times, it asserts nothing.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "bench_support.h"
#include "child_process.h"
#include "prometheus_scrape.h"

namespace {

using namespace lw::bench;
using lw::test::ChildProcess;
using namespace std::chrono_literals;

// One scenario of the scenario test, as data, with the same lw-workload
// arguments so the times here describe the leaks the tests check.
struct Scenario {
  std::string name;
  std::string kind;  // the finding it must produce; empty for a healthy control
  // `serve` arguments after --bind/--port; nullopt: no server.
  std::optional<std::vector<std::string>> server;
  // Mode and arguments of the other process; a server's --to/--port are added.
  std::vector<std::string> process;
  std::string ready = "ready";  // what the process prints once it is set up
  bool watch_server = false;    // a broadcast leaks in the server, not in its clients
};

std::vector<Scenario> scenarios() {
  using Args = std::vector<std::string>;
  return {
      {"SlowReaderOfAStream",
       "socket-receive-backlog",
       Args{"--stream", "--rate", "400000"},
       {"connect", "--count", "4", "--read-rate", "200000", "--rcvbuf", "8388608"}},
      {"AbandonedPooledStreams",
       "socket-receive-backlog",
       Args{"--stream", "--rate", "100000"},
       {"connect", "--count", "0", "--open-every", "1000"}},
      {"SlowConsumersOfABroadcast",
       "socket-send-backlog",
       Args{"--stream"},
       {"connect", "--count", "0", "--open-every", "500"},
       "ready",
       true},
      {"ConnectionLeak", "connection-leak", Args{}, {"connect", "--count", "0", "--open-every", "200"}},
      {"CloseWaitLeak",
       "close-wait-leak",
       Args{"--close-on-accept"},
       {"connect", "--count", "0", "--open-every", "200"}},
      {"HeapGrowth", "heap-growth", std::nullopt, {"heap-grow", "--bytes-per-second", "5000000"}},
      {"FdLeak", "fd-leak", std::nullopt, {"fd-leak", "--every", "100"}},
      {"ControlStreamReadPromptly",
       "",
       Args{"--stream", "--rate", "5000000"},
       {"connect", "--count", "4", "--read-every", "10"}},
      // Lighter than the test's 500 x 8: on 2 shared cores the test's churn
      // would starve the agent and time its rounds, not its verdicts.
      {"ControlHeavyChurn",
       "",
       Args{"--send-bytes", "1000", "--close-after-send"},
       {"churn", "--count", "200", "--parallel", "4", "--forever"},
       "done "},
      {"ControlCacheWarmingUp", "", std::nullopt, {"heap-grow", "--bytes-per-second", "20000000", "--cap", "40000000"}},
      {"ControlBacklogDrainedSteadily",
       "",
       Args{"--send-bytes", "20000000", "--count", "1"},
       {"connect", "--count", "1", "--read-rate", "1000000", "--rcvbuf", "16777216"}},
  };
}

// The running processes of one scenario; their destructors end them by PID.
struct Workloads {
  std::vector<std::unique_ptr<ChildProcess>> held;
  pid_t watched = -1;
};

ChildProcess& launch(Workloads& w, const std::string& workload, std::vector<std::string> args, int max_seconds) {
  args.insert(args.begin(), workload);
  // Bounded even if this bench dies without running destructors.
  args.insert(args.end(), {"--max-seconds", std::to_string(max_seconds)});
  w.held.push_back(std::make_unique<ChildProcess>(args));
  return *w.held.back();
}

Workloads start_workloads(const Scenario& sc, const std::string& workload, int max_seconds) {
  Workloads w;
  std::vector<std::string> args = sc.process;
  if (sc.server) {
    std::vector<std::string> serve{"serve", "--bind", "127.0.0.1", "--port", "0"};
    serve.insert(serve.end(), sc.server->begin(), sc.server->end());
    const std::string port = launch(w, workload, serve, max_seconds).expect_line("ready ");
    args.insert(args.begin() + 1, {"--to", "127.0.0.1", "--port", port});
  }
  launch(w, workload, args, max_seconds).expect_line(sc.ready);
  // Progress lines ('opened N', 'grown N', 'round R') would fill the pipes.
  for (auto& p : w.held) p->keep_draining();
  w.watched = (sc.watch_server ? w.held.front() : w.held.back())->pid();
  return w;
}

// leakwatch-agent watching one PID, with a 1 s interval and a 30 s window so
// a verdict takes seconds rather than the default 5 minutes.
class WatchingAgent {
 public:
  WatchingAgent(const std::string& agent, pid_t pid)
      : process_({agent, "--listen-address", "127.0.0.1:0", "--interval", "1s", "--analysis-window", "30s",
                  "--stall-after", "10s", "--pid", std::to_string(pid), "--log-level", "info"},
                 /*merge_stderr=*/true) {
    port_ =
        static_cast<uint16_t>(std::stoi(process_.expect_line("leakwatch: info: serving metrics on http://127.0.0.1:")));
    // It logs every finding that starts or ends; nobody reads them here.
    process_.keep_draining();
  }

  // Kinds of the findings active for pid now; none when a scrape fails, so
  // one slow round costs a second of resolution, not the scenario.
  std::set<std::string> findings(pid_t pid) const {
    std::set<std::string> kinds;
    try {
      for (const auto& s : lw::test::scrape(port_).find("leakwatch_leak_suspected", {{"pid", std::to_string(pid)}})) {
        if (s.value == 1) kinds.insert(s.labels.at("kind"));
      }
    } catch (const std::exception&) {
    }
    return kinds;
  }

 private:
  ChildProcess process_;
  uint16_t port_ = 0;
};

struct Sighting {
  std::string kind;
  double seconds = 0;  // since the workload started
};

struct Outcome {
  std::optional<double> detected;  // seconds to the expected kind
  std::vector<Sighting> seen;      // every kind, in the order it first appeared
  std::string error;               // the scenario could not run
};

bool has(const std::vector<Sighting>& seen, const std::string& kind) {
  return std::any_of(seen.begin(), seen.end(), [&](const Sighting& s) { return s.kind == kind; });
}

// Scrapes once a second until the expected kind appears (a leak) or the
// timeout passes (a control, which must stay quiet all that time).
Outcome observe(const Scenario& sc, pid_t pid, const WatchingAgent& agent, Clock::time_point start, int timeout) {
  Outcome out;
  for (auto tick = start + 1s; tick <= start + std::chrono::seconds(timeout); tick += 1s) {
    std::this_thread::sleep_until(tick);
    const double t = ms_since(start) / 1000;
    for (const auto& kind : agent.findings(pid)) {
      if (!has(out.seen, kind)) out.seen.push_back({kind, t});
    }
    if (!sc.kind.empty() && has(out.seen, sc.kind)) {
      out.detected = t;
      break;
    }
  }
  return out;
}

Outcome run_scenario(const Scenario& sc, const std::string& agent, const std::string& workload, int timeout) {
  try {
    // Times count from the workload's start, as a user's leak would.
    const auto start = Clock::now();
    const Workloads w = start_workloads(sc, workload, timeout + 15);
    const WatchingAgent watching(agent, w.watched);
    return observe(sc, w.watched, watching, start, timeout);
  } catch (const std::exception& e) {
    return {std::nullopt, {}, e.what()};
  }
}

// Kinds first seen in the same scrape tie: the agent raised them together.
std::string first_finding(const Scenario& sc, const Outcome& out) {
  if (out.seen.empty()) return "-";
  std::vector<std::string> first;
  for (const auto& s : out.seen) {
    if (s.seconds == out.seen.front().seconds) first.push_back(s.kind);
  }
  if (first == std::vector<std::string>{sc.kind}) return "yes";
  const bool among = std::find(first.begin(), first.end(), sc.kind) != first.end();
  return fmt::format("{}: {}", among ? "tied" : "no", fmt::join(first, ", "));
}

// For a control every finding is false; for a leak these are other patterns
// raised beside it (they may be real: pooled streams also grow connections).
std::string other_findings(const Scenario& sc, const Outcome& out) {
  std::vector<std::string> wrong;
  for (const auto& s : out.seen) {
    if (s.kind != sc.kind) wrong.push_back(fmt::format("{} at {:.0f} s", s.kind, s.seconds));
  }
  return wrong.empty() ? "none" : fmt::format("{}", fmt::join(wrong, ", "));
}

std::string row(const Scenario& sc, const Outcome& out) {
  if (!out.error.empty()) return fmt::format("| {} | {} | could not run: {} | - | - |\n", sc.name, sc.kind, out.error);
  const bool control = sc.kind.empty();
  const std::string detected = control        ? "-"
                               : out.detected ? fmt::format("{:.0f}", *out.detected)
                                              : std::string("not detected");
  return fmt::format("| {} | {} | {} | {} | {} |\n", sc.name, control ? "none (control)" : sc.kind, detected,
                     control ? "-" : first_finding(sc, out), other_findings(sc, out));
}

std::string summary(const std::vector<std::pair<Scenario, Outcome>>& results) {
  int leaks = 0, right_first = 0, controls = 0, noisy = 0;
  Series times{"detection", {}};
  for (const auto& [sc, out] : results) {
    if (sc.kind.empty()) {
      ++controls;
      noisy += !out.seen.empty();
      continue;
    }
    ++leaks;
    right_first += first_finding(sc, out) == "yes";
    if (out.detected) times.values.push_back(*out.detected);
  }
  std::string text = fmt::format("{} of {} leaks detected", times.values.size(), leaks);
  if (!times.values.empty()) {
    text += fmt::format(" (median {:.0f} s, slowest {:.0f} s)", times.median(),
                        *std::max_element(times.values.begin(), times.values.end()));
  }
  return text + fmt::format(
                    ", the first finding the expected kind alone in {}; {} of {} healthy controls with a "
                    "false finding.\n",
                    right_first, noisy, controls);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leakwatch-agent detection time: how soon each scenario's leak is named, and false findings"};
  std::string agent = LW_AGENT_PATH, workload = LW_WORKLOAD_PATH, only;
  int timeout = 40;
  std::vector<std::string> names;
  for (const auto& sc : scenarios()) names.push_back(sc.name);
  app.add_option("--agent", agent, "leakwatch-agent binary")->capture_default_str()->check(CLI::ExistingFile);
  app.add_option("--workload", workload, "lw-workload binary")->capture_default_str()->check(CLI::ExistingFile);
  app.add_option("--timeout", timeout, "Seconds per scenario to wait for a finding")
      ->capture_default_str()
      ->check(CLI::Range(5, 600));
  app.add_option("--only", only, "Run only this scenario")->check(CLI::IsMember(names));
  CLI11_PARSE(app, argc, argv);

  std::cout << "Machine: " << machine_description() << "\n\n";
  std::cout << "| scenario | expected kind | detected after (s) | first finding the expected kind | other findings "
               "(false for a control) |\n"
               "|---|---|---:|---|---|\n";
  std::vector<std::pair<Scenario, Outcome>> results;
  for (const auto& sc : scenarios()) {
    if (!only.empty() && sc.name != only) continue;
    std::cerr << "running " << sc.name << "\n";
    results.emplace_back(sc, run_scenario(sc, agent, workload, timeout));
    std::cout << row(sc, results.back().second) << std::flush;
  }
  std::cout << "\n" << summary(results);
  const bool none_ran =
      std::all_of(results.begin(), results.end(), [](const auto& r) { return !r.second.error.empty(); });
  return none_ran ? 1 : 0;
}
