#include "watch_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "analyze/subject_window.h"
#include "collect/node_sampler.h"
#include "model/observation.h"
#include "output/recording.h"
#include "output/report_json.h"
#include "report_text.h"
#include "util/exit_codes.h"
#include "util/json_text.h"
#include "util/units.h"
#include "watch_view.h"

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

// Sleeps until `when`, waking early on Ctrl-C, and takes the close events
// every 100 ms meanwhile: they come from every TCP socket of the node, and
// read once a round a 60 s interval lost them from about 870 closes a
// second (the ring buffer holds about 52,000).
void sleep_until(NodeSampler& sampler, Clock::time_point when) {
  bool draining = true;
  while (!g_interrupted && Clock::now() < when) {
    std::this_thread::sleep_for(std::min<Clock::duration>(when - Clock::now(), std::chrono::milliseconds(100)));
    if (!draining) continue;
    try {
      sampler.drain_closes();
    } catch (const Error&) {
      draining = false;  // the round's own drain fails the same way, and says so
    }
  }
}

// Close events the kernel or the wait for an owner could not keep: the
// ingress of connections closed meanwhile is short by theirs.
uint64_t close_events_lost(const AgentHealth& h) {
  return h.close_events_lost + h.close_socket_buffer_full + h.close_backlog_full + h.owner_storage_full +
         h.program_recursion;
}

// The verdict covers the whole watch, and its last minutes and hours too: a
// leak that began late in a long watch is as steep there as anywhere. The
// shortest window is the agent's default, widened to hold the samples a
// verdict needs at this interval.
AnalysisConfig watch_analysis(const WatchOptions& watch) {
  AnalysisConfig config;
  const double whole = seconds(watch.duration + watch.interval);
  const double shortest =
      std::max(config.window_seconds, static_cast<double>(config.min_samples) * seconds(watch.interval));
  std::erase_if(config.longer_windows_seconds, [whole](double span) { return span >= whole; });
  config.longer_windows_seconds.push_back(whole);
  config.window_seconds = std::min(shortest, whole);
  config.stall_after_seconds = seconds(watch.stall_after);
  return config;
}

// The header of a recording of this watch.
RecordingHeader recording_header(const ProcessReport& first, const WatchOptions& watch, const AnalysisConfig& config,
                                 std::string_view backend) {
  return {.pid = first.process.pid,
          .command = first.process.status.name.value_or(""),
          .start_time_ticks = first.process.stat.start_time,
          .cgroup = first.cgroup ? first.cgroup->path : "",
          .interval_seconds = seconds(watch.interval),
          .window_seconds = config.window_seconds,
          .longer_windows_seconds = config.longer_windows_seconds,
          .stall_after_seconds = config.stall_after_seconds,
          .started_at = fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(first.taken_at)),
          .backend = std::string(backend)};
}

}  // namespace

int run_watch(const InspectOptions& inspect, const WatchOptions& watch, std::ostream& out, std::ostream& progress) {
  const pid_t pid = parse_pid(inspect.pid);
  const auto opened = open_sockets(inspect);
  SocketSource& sockets = *opened.source;
  say_fallback(opened);
  const auto closes = open_close_events(inspect.backend, sockets, BpfCloseEvents::kDefaultRingBytes,
                                        [](const std::string& why) { std::cerr << "leakwatch: " << why << "\n"; });
  // Fails now, with the usual message and exit code, for a process that
  // cannot be watched (gone, kernel thread, zombie).
  const ProcessReport first = inspect_process(sockets, inspect.paths, pid, inspect.top);
  const ProcessKey key{pid, first.process.stat.start_time};
  // Once the process is known to be there, so a mistyped PID leaves an
  // earlier recording of that name as it was.
  std::optional<RecordingWriter> recording;
  if (!watch.record.empty()) recording.emplace(watch.record);

  NodeSampler sampler(sockets, closes.get(), inspect.paths,
                      TargetFilter{.pids = {pid}, .comm = {}, .cgroup_prefix = {}}, inspect.top,
                      seconds(watch.stall_after));
  const AnalysisConfig config = watch_analysis(watch);
  if (recording) recording->write(to_json(recording_header(first, watch, config, sockets.name())));
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
    if (recording) recording->write(to_json(o));
    if (live) show_progress(progress, o.time, seconds(watch.duration), o, series.last_ingress_rate());
    if (next + watch.interval > start + watch.duration || g_interrupted) break;
    sleep_until(sampler, next + watch.interval);
    if (g_interrupted) break;
  }
  if (live) progress << "\n";
  if (recording && exited) recording->write(process_exited_line());

  const WatchOutcome outcome = outcome_of(window, seconds(watch.interval), exited);
  const ProcessReport last = exited ? first : inspect_process(sockets, inspect.paths, pid, inspect.top);
  if (inspect.json) {
    auto report = to_json(last);
    report["watch"] = watch_json(outcome);
    out << json_text(report, 2) << "\n";
  } else {
    out << render_text(last) << watch_text(outcome, series, pid);
  }
  if (const uint64_t lost = close_events_lost(sampler.health()); lost > 0) {
    std::cerr << fmt::format(
        "leakwatch: {} close events were lost (the kernel's buffer or the wait for their owner was full): "
        "ingress of connections closed during the watch is short by theirs\n",
        lost);
  }
  // The report stands; the recording the user asked for is incomplete.
  if (recording && recording->failure()) {
    throw Error(ErrorKind::io, fmt::format("the recording '{}' stopped after {} of its lines: {}", recording->path(),
                                           recording->lines_written(), *recording->failure()));
  }
  if (exited) return kExitProcessExited;
  return outcome.findings.empty() ? kExitOk : kExitLeakFound;
}

}  // namespace lw::cli
