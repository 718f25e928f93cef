// leakwatch-agent soaked under churn, everything at once for --duration: tens
// of thousands of loopback sockets held, connections opened and closed at
// about 1,000 a second, short-lived processes born and exiting at a steady
// pace in memory cgroups made and removed per batch, a scrape every second,
// and alerts posted to a real Alertmanager that is stopped and started again
// mid-run. Unlike the other benchmarks it judges: the agent's memory stays
// flat after warm-up, every round completes, nothing crashes, and every loss
// is counted. Exits 1 when a check fails.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "alert_targets.h"
#include "bench_support.h"
#include "child_process.h"
#include "flags/shared_flags.h"
#include "running_agent.h"
#include "socket_fleet.h"
#include "test_cgroup.h"

namespace {

using namespace lw::bench;
using lw::test::ChildProcess;
using lw::test::Scrape;
using namespace std::chrono_literals;

struct SoakOptions {
  std::string agent = LW_AGENT_PATH, workload = LW_WORKLOAD_PATH;
  std::chrono::milliseconds duration = 10min, interval = 1s;
  int sockets = 50000;
  int processes = 200;
  int process_seconds = 12;  // how long each short-lived process lives
  int churn_rate = 1000;     // connections opened and closed a second
  std::string analysis_window = "30s";
};

double seconds_of(std::chrono::milliseconds d) { return std::chrono::duration<double>(d).count(); }

// Scrapes the agent's /metrics once a second on its own thread, as
// Prometheus would; keeps the counts and the latest answer.
class Scraper {
 public:
  explicit Scraper(const lw::test::RunningAgent& agent)
      : thread_([this, &agent] {
          while (!stop_) {
            const auto next = Clock::now() + 1s;
            try {
              Scrape s = agent.scrape();
              ok_++;
              std::lock_guard lock(mutex_);
              latest_ = std::move(s);
            } catch (const std::exception&) {
              failed_++;
            }
            while (!stop_ && Clock::now() < next) std::this_thread::sleep_for(20ms);
          }
        }) {}
  ~Scraper() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int ok() const { return ok_; }
  int failed() const { return failed_; }
  std::optional<Scrape> latest() const {
    std::lock_guard lock(mutex_);
    return latest_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0}, failed_{0};
  mutable std::mutex mutex_;
  std::optional<Scrape> latest_;
  std::thread thread_;
};

// Short-lived lw-workload heap-grow processes, started at a steady pace, ten
// to a memory cgroup that is made for the batch and removed once its
// processes have exited by themselves.
class ProcessBirths {
 public:
  static constexpr int kBatch = 10;

  ProcessBirths(const SoakOptions& o, Clock::time_point start)
      : o_(o),
        start_(start),
        pace_(std::chrono::duration<double>(std::max(1.0, seconds_of(o.duration) - o.process_seconds - 2) /
                                            std::max(1, o.processes))) {}

  // Starts the processes due by `now` and retires the batches that are over.
  void step(Clock::time_point now) {
    while (started_ < o_.processes && now >= start_ + std::chrono::duration_cast<Clock::duration>(pace_ * started_)) {
      if (started_ % kBatch == 0) {
        batches_.push_back(std::make_unique<Batch>(fmt::format("leakwatch-soak-{}-{}", getpid(), started_ / kBatch)));
        cgroups_made_++;
      }
      Batch& batch = *batches_.back();
      batch.children.push_back(
          std::make_unique<ChildProcess>(batch.cgroup.wrap({o_.workload, "heap-grow", "--bytes-per-second", "5000000",
                                                            "--max-seconds", std::to_string(o_.process_seconds)})));
      batch.last_start = now;
      started_++;
    }
    while (!batches_.empty()) {
      Batch& oldest = *batches_.front();
      const bool complete = batches_.size() > 1 || started_ == o_.processes;
      if (!complete || now < oldest.last_start + std::chrono::seconds(o_.process_seconds + 2)) break;
      for (auto& child : oldest.children) {
        const int status = child->wait();
        (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? exited_ok_ : exited_badly_)++;
      }
      batches_.pop_front();  // reaped, so the cgroup can go
      cgroups_removed_++;
    }
  }

  int started() const { return started_; }
  int exited_ok() const { return exited_ok_; }
  int exited_badly() const { return exited_badly_; }
  int cgroups_made() const { return cgroups_made_; }
  int cgroups_removed() const { return cgroups_removed_; }

 private:
  struct Batch {
    explicit Batch(const std::string& name) : cgroup(name) {}
    lw::test::TestCgroup cgroup;  // declared first: removed after its children are gone
    std::vector<std::unique_ptr<ChildProcess>> children;
    Clock::time_point last_start;
  };

  const SoakOptions& o_;
  Clock::time_point start_;
  std::chrono::duration<double> pace_;
  std::deque<std::unique_ptr<Batch>> batches_;
  int started_ = 0, exited_ok_ = 0, exited_badly_ = 0, cgroups_made_ = 0, cgroups_removed_ = 0;
};

// Connections opened and closed at --churn-rate: a server that sends 1 KB and
// closes, and a client that reads each to EOF and closes it.
class Churn {
 public:
  Churn(const SoakOptions& o, int max_seconds)
      : server_({o.workload, "serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "1000",
                 "--close-after-send", "--max-seconds", std::to_string(max_seconds)}) {
    const std::string port = server_.expect_line("ready ");
    server_.keep_draining();
    client_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        o.workload, "churn", "--to", "127.0.0.1", "--port", port, "--count", std::to_string(kPerRound), "--parallel",
        "16", "--forever", "--rate", std::to_string(o.churn_rate), "--max-seconds", std::to_string(max_seconds)});
    client_->keep_draining();
    start_ = Clock::now();
  }
  // Connections finished so far (whole rounds of kPerRound), a second.
  double achieved_rate() const {
    const std::string out = client_->drained_output();
    long rounds = out.find("done ") != std::string::npos ? 1 : 0;
    if (const auto at = out.rfind("round "); at != std::string::npos) rounds = std::stol(out.substr(at + 6));
    return static_cast<double>(rounds * kPerRound) / (ms_since(start_) / 1000);
  }
  bool alive() const { return kill(client_->pid(), 0) == 0 && kill(server_.pid(), 0) == 0; }

 private:
  static constexpr long kPerRound = 100;
  ChildProcess server_;
  std::unique_ptr<ChildProcess> client_;
  Clock::time_point start_;
};

struct RssSample {
  double t = 0;  // seconds since the agent started
  double mib = 0;
};

bool alive_not_zombie(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("State:", 0) == 0) return line.find('Z') == std::string::npos;
  }
  return false;
}

// SIGTERM, then up to 10 s for it to exit; SIGKILL after that. The exit status.
int terminate(ChildProcess& process) {
  process.signal(SIGTERM);
  for (int i = 0; i < 100 && alive_not_zombie(process.pid()); ++i) std::this_thread::sleep_for(100ms);
  if (alive_not_zombie(process.pid())) process.signal(SIGKILL);
  return process.wait();
}

double counter(const Scrape& s, const std::string& name, const std::map<std::string, std::string>& match = {}) {
  double sum = 0;
  for (const auto& sample : s.find(name, match)) sum += sample.value;
  return sum;
}

// "cause=a: 0, cause=b: 3" for every series of a counter.
std::string by_label(const Scrape& s, const std::string& name, const std::string& label) {
  std::string text;
  for (const auto& sample : s.find(name)) {
    const auto it = sample.labels.find(label);
    text += fmt::format("{}{}: {:.0f}", text.empty() ? "" : ", ", it == sample.labels.end() ? "-" : it->second,
                        sample.value);
  }
  return text.empty() ? "(none exported)" : text;
}

struct Check {
  std::string what;
  bool passed = false;
  std::string detail;
};

int run_soak(const SoakOptions& o) {
  const double duration_s = seconds_of(o.duration);
  const double warm_up_s = std::max(20.0, 0.2 * duration_s);
  const int outlive = static_cast<int>(duration_s) + 300;  // the load's own end, should this process die

  std::cout << "Machine: " << machine_description() << "\n";
  std::cerr << fmt::format("soak: holding {} loopback sockets...\n", o.sockets);
  const auto setup = Clock::now();
  const lw::test::SocketFleet fleet(o.workload, o.sockets, std::min(18000, o.sockets / 2 - 1), outlive);
  const Churn churn(o, outlive);
  lw::test::Alertmanager::Options am_options;
  am_options.port = lw::test::free_loopback_port();
  auto alertmanager = std::make_unique<lw::test::Alertmanager>(am_options);
  const std::string am_url = alertmanager->url();
  std::cerr << fmt::format("soak: set up in {:.1f} s; running the agent for {:.0f} s\n", ms_since(setup) / 1000,
                           duration_s);

  // --page-after 0s: the soak checks that posts stop and resume with the
  // Alertmanager, so its leaks page at once instead of after 15 minutes.
  lw::test::RunningAgent agent(o.agent, {"--interval", fmt::format("{}ms", o.interval.count()), "--analysis-window",
                                         o.analysis_window, "--page-after", "0s", "--alertmanager-url", am_url});
  const pid_t agent_pid = agent.process().pid();
  const auto start = Clock::now();
  const auto at = [&](double fraction) {
    return start + std::chrono::milliseconds(static_cast<long>(fraction * duration_s * 1000));
  };
  const double rounds_at_start = counter(agent.scrape(), "leakwatch_snapshots_total", {{"result", "ok"}});
  Scraper scraper(agent);
  ProcessBirths births(o, start);

  const double rss_every = std::clamp(duration_s / 120, 2.0, 5.0);
  std::vector<RssSample> rss;
  bool am_stopped = false, am_restarted = false, agent_died = false;
  double posts_ok_at_stop = 0, posts_failed_at_stop = 0, posts_ok_at_restart = 0, posts_failed_at_restart = 0;
  const auto posts = [&](const std::string& result) {
    const auto s = scraper.latest();
    return s ? counter(*s, "leakwatch_alert_posts_total", {{"result", result}}) : 0.0;
  };
  for (auto now = Clock::now(); now < at(1.0); now = Clock::now()) {
    births.step(now);
    const double t = std::chrono::duration<double>(now - start).count();
    if (rss.empty() || t >= rss.back().t + rss_every) rss.push_back({t, rss_mib(agent_pid)});
    if (!am_stopped && now >= at(0.4)) {
      posts_ok_at_stop = posts("ok");
      posts_failed_at_stop = posts("failed");
      alertmanager.reset();
      am_stopped = true;
      std::cerr << fmt::format("soak: Alertmanager stopped at {:.0f} s\n", t);
    }
    if (am_stopped && !am_restarted && now >= at(0.6)) {
      posts_ok_at_restart = posts("ok");
      posts_failed_at_restart = posts("failed");
      alertmanager = std::make_unique<lw::test::Alertmanager>(am_options);
      am_restarted = true;
      std::cerr << fmt::format("soak: Alertmanager started again at {:.0f} s\n", t);
    }
    if (!alive_not_zombie(agent_pid)) {
      agent_died = true;
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  const double ran_s = ms_since(start) / 1000;
  rss.push_back({ran_s, rss_mib(agent_pid)});
  scraper.stop();
  const bool alive_at_end = !agent_died && alive_not_zombie(agent_pid);
  std::optional<Scrape> last;
  try {
    if (alive_at_end) last = agent.scrape();
  } catch (const std::exception&) {
  }
  if (!last) last = scraper.latest();
  const double churn_rate = churn.achieved_rate();
  const bool churn_alive = churn.alive();
  const int status = terminate(agent.process());
  const bool clean_exit = WIFEXITED(status) && WEXITSTATUS(status) == 0;

  // Memory: the sample at the end of warm-up against the most over the second half.
  double rss_warm = 0, rss_max_second_half = 0, rss_max = 0;
  for (const auto& r : rss) {
    if (rss_warm == 0 && r.t >= warm_up_s) rss_warm = r.mib;
    if (r.t >= duration_s / 2) rss_max_second_half = std::max(rss_max_second_half, r.mib);
    rss_max = std::max(rss_max, r.mib);
  }
  std::cout << fmt::format("\nAgent RSS (VmRSS, sampled every {:.0f} s; warm-up: the first {:.0f} s):\n\n", rss_every,
                           warm_up_s)
            << "| t (s) | agent RSS (MiB) |\n|---:|---:|\n";
  for (size_t i = 0, shown = 0; i < rss.size(); ++i) {
    if (i + 1 == rss.size() || rss[i].t >= shown * duration_s / 10) {
      std::cout << fmt::format("| {:.0f} | {:.1f} |\n", rss[i].t, rss[i].mib);
      shown = static_cast<size_t>(rss[i].t * 10 / duration_s) + 1;
    }
  }

  const Scrape end = last.value_or(Scrape({}));
  const double rounds_ok = counter(end, "leakwatch_snapshots_total", {{"result", "ok"}}) - rounds_at_start;
  const double rounds_failed = counter(end, "leakwatch_snapshots_total", {{"result", "failed"}});
  const double rounds_expected = ran_s / seconds_of(o.interval);
  const double posts_ok = counter(end, "leakwatch_alert_posts_total", {{"result", "ok"}});
  const double posts_failed = counter(end, "leakwatch_alert_posts_total", {{"result", "failed"}});

  std::cout << fmt::format(
      "\n| | |\n|---|---:|\n"
      "| run | {:.0f} s at a {} ms interval |\n"
      "| sockets seen by the agent at the end | {:.0f} (asked: {}) |\n"
      "| connections opened and closed | {:.0f}/s (asked: {}/s) |\n"
      "| short-lived processes | {} started, {} exited 0, {} did not |\n"
      "| memory cgroups | {} made, {} removed |\n"
      "| scrapes, one a second | {} ok, {} failed |\n"
      "| agent RSS start / end of warm-up / max of second half / end / max | {:.1f} / {:.1f} / {:.1f} / {:.1f} / "
      "{:.1f} MiB |\n"
      "| rounds | {:.0f} ok (expected about {:.0f}), {:.0f} failed |\n"
      "| round wall time, mean | {:.1f} ms |\n"
      "| alert posts | {:.0f} ok, {:.0f} failed; while Alertmanager was down: {:.0f} ok, {:.0f} failed |\n"
      "| alert payloads dropped | {} |\n"
      "| events lost | {} |\n"
      "| processes that exited while a round read them | {:.0f} |\n"
      "| collector errors | {} |\n",
      ran_s, o.interval.count(), counter(end, "leakwatch_sockets_seen"), o.sockets, churn_rate, o.churn_rate,
      births.started(), births.exited_ok(), births.exited_badly(), births.cgroups_made(), births.cgroups_removed(),
      scraper.ok(), scraper.failed(), rss.front().mib, rss_warm, rss_max_second_half, rss.back().mib, rss_max,
      rounds_ok, rounds_expected, rounds_failed,
      1000 * counter(end, "leakwatch_snapshot_duration_seconds_sum") /
          std::max(1.0, counter(end, "leakwatch_snapshot_duration_seconds_count")),
      posts_ok, posts_failed, posts_ok_at_restart - posts_ok_at_stop, posts_failed_at_restart - posts_failed_at_stop,
      by_label(end, "leakwatch_alert_payloads_dropped_total", "reason"),
      by_label(end, "leakwatch_events_lost_total", "cause"), counter(end, "leakwatch_processes_exited_mid_round_total"),
      by_label(end, "leakwatch_collector_errors_total", "collector"));

  const std::vector<Check> checks = {
      {"RSS flat within 10% after warm-up", rss_warm > 0 && rss_max_second_half <= 1.10 * rss_warm,
       fmt::format("{:.1f} MiB max vs {:.1f} MiB", rss_max_second_half, rss_warm)},
      {"every round completed", rounds_failed == 0 && rounds_ok >= 0.9 * rounds_expected,
       fmt::format("{:.0f} ok of about {:.0f}, {:.0f} failed", rounds_ok, rounds_expected, rounds_failed)},
      {"agent alive at the end", alive_at_end, ""},
      {"agent exits 0 on SIGTERM", clean_exit, fmt::format("wait status {}", status)},
      {"every scrape answered", scraper.failed() == 0 && scraper.ok() > 0, fmt::format("{} failed", scraper.failed())},
      {"posts resumed after Alertmanager came back", posts_ok > posts_ok_at_restart,
       fmt::format("{:.0f} ok posts after the restart", posts_ok - posts_ok_at_restart)},
      {"the load ran to the end", churn_alive && births.exited_badly() == 0 && births.started() == o.processes,
       fmt::format("churn {}, {} processes did not exit 0", churn_alive ? "alive" : "gone", births.exited_badly())},
  };
  std::string failed;
  for (const Check& c : checks) {
    std::cout << fmt::format("{} {}{}\n", c.passed ? "ok  " : "FAIL", c.what, c.detail.empty() ? "" : ": " + c.detail);
    if (!c.passed) failed += (failed.empty() ? "" : "; ") + c.what;
  }
  std::cout << (failed.empty() ? fmt::format("\nsoak: PASS, {} checks, {:.0f} s\n", checks.size(), ran_s)
                               : "\nsoak: FAIL: " + failed + "\n");
  if (!failed.empty() && alive_at_end)
    std::cerr << "agent log (tail):\n" << agent.log().substr(agent.log().size() > 4000 ? agent.log().size() - 4000 : 0);
  return failed.empty() ? 0 : 1;
}

std::chrono::milliseconds to_duration(const std::string& name, const std::string& text) {
  const auto d = lw::parse_duration(text);
  if (!d) throw CLI::ValidationError(name, "use a number with a unit: 60s, 10m");
  return *d;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leakwatch-agent soak: sockets, churn, processes, cgroups, scrapes and an Alertmanager restart at once"};
  SoakOptions o;
  std::string duration = "10m", interval = "1s";
  app.add_option("--agent", o.agent, "leakwatch-agent binary")->capture_default_str();
  app.add_option("--workload", o.workload, "lw-workload binary")->capture_default_str();
  app.add_option("--duration", duration, "How long the agent runs under load: 60s, 10m")->capture_default_str();
  app.add_option("--interval", interval, "The agent's sampling interval")->capture_default_str();
  const auto count = [&app](const std::string& name, int& value, const std::string& what, int min, int max) {
    app.add_option(name, value, what)->check(CLI::Range(min, max))->capture_default_str();
  };
  count("--sockets", o.sockets, "Loopback sockets held throughout", 1000, 200000);
  count("--processes", o.processes, "Short-lived processes started over the run", 1, 10000);
  count("--process-seconds", o.process_seconds, "How long each short-lived process lives", 1, 600);
  count("--churn-rate", o.churn_rate, "Connections opened and closed a second", 1, 100000);
  app.add_option("--analysis-window", o.analysis_window, "The agent's --analysis-window")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    o.duration = to_duration("--duration", duration);
    o.interval = to_duration("--interval", interval);
    return run_soak(o);
  } catch (const std::exception& e) {
    std::cerr << "lw-soak: " << e.what() << "\n";
    return 2;
  }
}
