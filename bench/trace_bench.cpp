// How the analysis judges hours of production-like samples: synthetic
// traces of slow and fast leaks and of healthy growth (a pool filling, a
// fleet of WebSockets growing all morning, a GC sawtooth, a cache warming,
// a daily cycle), at the intervals users run (15 s, 60 s), replayed round by
// round as the agent does: its default window for the interval, and its
// paging rule (--page-after 15m). Reports, per trace, when the expected
// finding first reached warning and first paged, and how many rounds a
// healthy trace (or a wrong kind) spent at warning or paging; the same for
// the hour-long recordings of real workloads in tests/traces/ (made by
// record-long.sh). Not a test: it asserts nothing. --write-dir writes each trace as a recording, for
// `leakwatch analyze` (docs/recording.md).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <malloc.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "analyze/leak_detector.h"
#include "analyze/paging.h"
#include "analyze/subject_window.h"
#include "bench_support.h"
#include "output/recording.h"
#include "synthetic_traces.h"

namespace {

using lw::Observation;
using lw::test::agent_window;
using lw::test::Judgement;
using lw::test::kHour;
using lw::test::kKiB;
using lw::test::kMiB;
using lw::test::kMinute;
using lw::test::replay;
using lw::test::samples_of;
using lw::test::Trace;
using lw::test::traces;

// What one round's analysis of one subject costs once every window is
// full: 26 hours of a leak at `interval`, findings() timed every 15 s of
// the last two (the first day fills the windows); and the heap its windows
// hold then, each sample with the agent's 5 endpoints and a listener.
void cost_row(double interval) {
  Trace leak = traces().front();
  leak.hours = 26;
  std::vector<Observation> samples = samples_of(leak, interval);
  for (auto& o : samples) {
    o.endpoints.resize(5, o.endpoints.front());
    o.listeners = {{.port = 8080, .waiting = 0, .limit = 4096}};
  }
  const size_t heap_before = mallinfo2().uordblks;
  lw::SubjectWindow window(agent_window(interval));
  const size_t every = std::max<size_t>(1, static_cast<size_t>(15 / interval));
  lw::bench::Series cost{"findings()", {}};
  size_t i = 0;
  for (const Observation& o : samples) {
    window.add(o);
    if (o.time < 24 * kHour || i++ % every != 0) continue;
    const auto start = lw::bench::Clock::now();
    const auto found = window.findings();
    cost.values.push_back(lw::bench::ms_since(start));
    if (found.empty()) throw std::runtime_error("the leak was not named: the timing would not be of a verdict");
  }
  const double kept_kib = static_cast<double>(mallinfo2().uordblks - heap_before) / kKiB;
  std::sort(cost.values.begin(), cost.values.end());
  const double p99 = cost.values[cost.values.size() * 99 / 100];
  std::cout << fmt::format("| {:.0f} s | {} | {} | {:.0f} KiB | {:.3f} ms | {:.3f} ms | {:.3f} ms |\n", interval,
                           window.samples(), window.points(), kept_kib, cost.median(), p99, cost.values.back());
}

// A pre-fork master and four workers, each replaced every 2 minutes
// (staggered by 30 s) as gunicorn --max-requests does, each leaking
// `leak` bytes/s while it lives: 4 hours through the agent's LeakDetector.
// Returns when the cgroup was first named at warning or above (a finding
// about the cgroup, not a worker), and in how many rounds anything was.
struct RecycledJudgement {
  std::optional<double> first_warning;
  size_t rounds = 0, warning_rounds = 0, starts = 0;
};

RecycledJudgement recycled_workers(double interval, double leak) {
  constexpr double life = 2 * kMinute, stagger = 30;
  lw::LeakDetector detector(agent_window(interval));
  RecycledJudgement j;
  const auto process = [](pid_t pid, uint64_t started, double anon) {
    lw::ProcessSample p;
    p.key = {pid, started};
    p.comm = "gunicorn";
    p.cgroup = "/kubepods/pod-web/app";
    p.resident = {.anon = static_cast<uint64_t>(anon), .file = 30 << 20, .shmem = 0, .total = std::nullopt};
    p.open_fds = 40;
    return p;
  };
  for (double t = 0; t <= 4 * kHour; t += interval) {
    lw::NodeSample sample;
    sample.processes.push_back(process(1, 1, 80 * kMiB));
    for (int slot = 0; slot < 4; ++slot) {
      const double since = t + stagger * slot;
      const auto generation = static_cast<uint64_t>(since / life);
      const double age = std::fmod(since, life);
      sample.processes.push_back(
          process(100 + slot, 1000 * generation + static_cast<uint64_t>(slot) + 2, 120 * kMiB + leak * age));
    }
    auto& cgroup = sample.cgroups["/kubepods/pod-web/app"];
    cgroup.path = "/kubepods/pod-web/app";
    cgroup.processes = sample.processes.size();
    detector.update(sample, t);
    for (const auto& c : detector.take_changes()) j.starts += c.started ? 1 : 0;
    ++j.rounds;
    bool warning = false;
    for (const auto& f : detector.active()) {
      if (f.finding.severity < lw::Severity::warning) continue;
      warning = true;
      if (!f.process && !j.first_warning) j.first_warning = t;
    }
    j.warning_rounds += warning ? 1 : 0;
  }
  return j;
}

std::string minutes(const std::optional<double>& seconds) {
  if (!seconds) return "never";
  return *seconds < 10 * kMinute ? fmt::format("{:.0f} s", *seconds) : fmt::format("{:.0f} min", *seconds / kMinute);
}

// One row of the table: a trace at an interval, as the agent judged it.
void judgement_row(const std::string& name, const std::string& expected, double interval,
                   const std::vector<Observation>& samples) {
  const Judgement j = replay(samples, expected, interval);
  const auto when = [&](const std::optional<double>& t) { return expected.empty() ? "-" : minutes(t); };
  std::cout << fmt::format("| {} | {:.0f} s | {} | {} | {} | {} | {} of {} | {} of {} |\n", name, interval,
                           expected.empty() ? "none" : expected, when(j.first_named), when(j.first_warning),
                           when(j.first_page), j.false_warning_rounds, j.rounds, j.false_paging_rounds, j.rounds);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lw-bench-traces: the analysis over hours of synthetic production-like traces"};
  std::string write_dir;
  app.add_option("--write-dir", write_dir, "Also write each trace as a recording for 'leakwatch analyze'");
  CLI11_PARSE(app, argc, argv);

  std::cout << "# " << lw::bench::machine_description() << "\n\n";
  std::cout << "| trace | interval | expected | first named | first warning | first page | rounds at warning, wrong | "
               "rounds paging, wrong |\n| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n";
  for (const Trace& trace : traces()) {
    for (const double interval : {15.0, 60.0}) {
      const std::vector<Observation> samples = samples_of(trace, interval);
      if (!write_dir.empty()) {
        std::filesystem::create_directories(write_dir);
        std::string file = fmt::format("{}-{:.0f}s.jsonl", trace.name, interval);
        for (char& c : file) c = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
        lw::RecordingWriter writer((std::filesystem::path(write_dir) / file).string());
        writer.write(
            lw::to_json(lw::RecordingHeader{.pid = 1,
                                            .command = "synthetic",
                                            .start_time_ticks = 1,
                                            .cgroup = "",
                                            .interval_seconds = interval,
                                            .window_seconds = agent_window(interval).window_seconds,
                                            .longer_windows_seconds = agent_window(interval).longer_windows_seconds,
                                            .stall_after_seconds = 60,
                                            .started_at = "2026-12-07T00:00:00Z",
                                            .backend = "synthetic"}));
        for (const auto& o : samples) writer.write(lw::to_json(o));
      }
      judgement_row(trace.name, trace.expected, interval, samples);
    }
  }
  std::cout << "\nReal workloads on loopback, recorded for an hour or more by tests/traces/record-long.sh:\n\n"
               "| recording | interval | expected | first named | first warning | first page | rounds at warning, "
               "wrong | rounds paging, wrong |\n| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& [name, expected, warns_until] : lw::test::recorded_traces()) {
    for (const char* interval : {"15s", "60s"}) {
      const lw::Recording r = lw::read_recording(fmt::format("{}/{}-{}.jsonl", LW_TRACES_DIR, name, interval));
      judgement_row(name, expected, r.header.interval_seconds, r.samples);
    }
  }
  std::cout << "\nA pre-fork master and 4 workers each replaced every 2 minutes, 4 hours, through the agent's "
               "LeakDetector (the cgroup named at warning; rounds with any finding at warning; findings started):\n\n"
               "| workers leak | interval | cgroup first named at warning | rounds at warning | findings started |\n"
               "| ---: | ---: | ---: | ---: | ---: |\n";
  for (const double leak : {100 * kKiB, 0.0}) {
    for (const double interval : {15.0, 60.0}) {
      const RecycledJudgement j = recycled_workers(interval, leak);
      std::cout << fmt::format("| {} | {:.0f} s | {} | {} of {} | {} |\n",
                               leak > 0 ? fmt::format("{:.0f} KiB/s", leak / kKiB) : "none", interval,
                               leak > 0 ? minutes(j.first_warning) : "-", j.warning_rounds, j.rounds, j.starts);
    }
  }

  std::cout << "\nOne round's analysis of one subject with its windows full (5 min or the interval's minimum, 1 h "
               "and 24 h), timed every 15 s (or round) over the 25th and 26th hours of the 25 KiB/s heap leak:\n\n"
               "| interval | samples taken | samples kept | heap kept | median | p99 | max |\n"
               "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const double interval : {1.0, 5.0, 15.0, 60.0}) cost_row(interval);
  return 0;
}
