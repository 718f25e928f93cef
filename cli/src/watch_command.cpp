#include "watch_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "analyze/subject_window.h"
#include "collect/node_sampler.h"
#include "model/observation.h"
#include "output/report_json.h"
#include "report_text.h"
#include "terminal_chart.h"
#include "util/exit_codes.h"
#include "util/units.h"
#include "verdict_text.h"

namespace lw::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Ctrl-C ends the watch early with a verdict on what was seen.
std::atomic<bool> g_interrupted{false};
void on_interrupt(int) { g_interrupted = true; }

class InterruptScope {
 public:
  InterruptScope() { previous_ = std::signal(SIGINT, on_interrupt); }
  ~InterruptScope() { std::signal(SIGINT, previous_); }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  void (*previous_)(int);
};

double seconds(std::chrono::milliseconds d) { return std::chrono::duration<double>(d).count(); }

// What the chart shows, one value per sample.
struct WatchSeries {
  std::vector<double> anon, file_shmem, receive, send, ingress_rate;
  double last_time = 0, last_ingress = 0;

  void add(const Observation& o) {
    anon.push_back(o.resident.anon.value_or(0));
    file_shmem.push_back(o.resident.file.value_or(0) + o.resident.shmem.value_or(0));
    receive.push_back(o.receive_queue_bytes);
    send.push_back(o.send_queue_bytes);
    const double dt = o.time - last_time;
    ingress_rate.push_back(anon.size() > 1 && dt > 0 ? std::max(0.0, o.ingress_bytes_total - last_ingress) / dt : 0);
    last_time = o.time;
    last_ingress = o.ingress_bytes_total;
  }

  std::string chart() const {
    return render_chart({{"anon", anon, "bytes"},
                         {"file+shmem", file_shmem, "bytes"},
                         {"recv queues", receive, "bytes"},
                         {"send queues", send, "bytes"}},
                        {{"ingress", ingress_rate, "bytes/s"}});
  }
};

const ProcessSample* find_process(const NodeSample& sample, const ProcessKey& key) {
  for (const auto& p : sample.processes) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

const CgroupSample* find_cgroup(const NodeSample& sample, const std::string& path) {
  const auto it = sample.cgroups.find(path);
  return it == sample.cgroups.end() ? nullptr : &it->second;
}

void show_progress(std::ostream& progress, double elapsed, double total, const Observation& o, double ingress_rate) {
  const auto footprint = o.footprint();
  progress << fmt::format("\r  {:>4.0f}s/{:.0f}s  footprint {:>10}  receive queues {:>10}  ingress {:>12}   ", elapsed,
                          total, footprint ? human_bytes(*footprint) : "unknown", human_bytes(o.receive_queue_bytes),
                          human_bytes(ingress_rate) + "/s")
           << std::flush;
}

// Sleeps until `when`, waking early on Ctrl-C.
void sleep_until(Clock::time_point when) {
  while (!g_interrupted && Clock::now() < when) {
    std::this_thread::sleep_for(std::min<Clock::duration>(when - Clock::now(), std::chrono::milliseconds(100)));
  }
}

}  // namespace

int run_watch(const InspectOptions& inspect, const WatchOptions& watch, std::ostream& out, std::ostream& progress) {
  const pid_t pid = parse_pid(inspect.pid);
  const auto opened = open_sockets(inspect);
  SocketSource& sockets = *opened.source;
  say_fallback(opened);
  const auto closes = open_close_events(inspect.backend, CloseEventSource::kDefaultRingBytes,
                                        [](const std::string& why) { std::cerr << "leakwatch: " << why << "\n"; });
  // Fails now, with the usual message and exit code, for a process that
  // cannot be watched (gone, kernel thread, zombie).
  const ProcessReport first = inspect_process(sockets, inspect.paths, pid, inspect.top);
  const ProcessKey key{pid, first.process.stat.start_time};

  NodeSampler sampler(sockets, closes.get(), inspect.paths,
                      TargetFilter{.pids = {pid}, .comm = {}, .cgroup_prefix = {}}, inspect.top,
                      seconds(watch.stall_after));
  AnalysisConfig config;
  config.window_seconds = seconds(watch.duration + watch.interval);
  config.stall_after_seconds = seconds(watch.stall_after);
  SubjectWindow window(config);
  WatchSeries series;
  const bool live = isatty(STDERR_FILENO) != 0;

  g_interrupted = false;
  const InterruptScope interrupt_scope;
  const auto start = Clock::now();
  bool exited = false;
  for (auto next = start;; next += watch.interval) {
    const NodeSample sample = sampler.sample();
    const ProcessSample* p = find_process(sample, key);
    if (!p) {
      exited = true;
      break;
    }
    const Observation o =
        observe_process(*p, find_cgroup(sample, p->cgroup),
                        seconds(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)));
    window.add(o);
    series.add(o);
    if (live) show_progress(progress, o.time, seconds(watch.duration), o, series.ingress_rate.back());
    if (next + watch.interval > start + watch.duration || g_interrupted) break;
    sleep_until(next + watch.interval);
    if (g_interrupted) break;
  }
  if (live) progress << "\n";

  const auto findings = window.findings();
  const double watched = window.span_seconds();
  const ProcessReport last = exited ? first : inspect_process(sockets, inspect.paths, pid, inspect.top);
  if (inspect.json) {
    auto report = to_json(last);
    nlohmann::ordered_json found = nlohmann::ordered_json::array();
    for (const auto& f : findings) found.push_back(to_json(f));
    report["watch"] = {{"seconds", watched},
                       {"samples", window.samples()},
                       {"interval_seconds", seconds(watch.interval)},
                       {"process_exited", exited},
                       {"findings", found}};
    out << report.dump(2) << "\n";
  } else {
    out << render_text(last) << "\nFootprint against ingress over the watch\n"
        << series.chart() << render_verdict(findings, watched, window.samples());
    if (exited) out << fmt::format("PID {} exited during the watch; the verdict covers what was seen.\n", pid);
  }
  if (exited) return kExitProcessExited;
  return findings.empty() ? kExitOk : kExitLeakFound;
}

}  // namespace lw::cli
