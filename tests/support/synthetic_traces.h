// Synthetic production-like traces of one process over hours: slow and fast
// leaks and backlogs, and healthy growth that looks like one for a while (a pool
// filling, a fleet of WebSockets growing all morning, a daily cycle, a
// scale-up, a GC sawtooth, a cache warming); and their replay round by
// round as the agent judges them (its default windows for the interval,
// --page-after 15m).
// Shared by lw-bench-traces, which reports the table in the README, and
// the unit tests, which hold the analysis to it.
#pragma once

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "analyze/analysis_config.h"
#include "model/observation.h"

namespace lw::test {

inline constexpr double kMiB = 1024 * 1024;
inline constexpr double kKiB = 1024;
inline constexpr double kMinute = 60;
inline constexpr double kHour = 3600;

// What a trace is at second t: heap and connections; the rest follows.
struct Shape {
  std::function<double(double)> anon;         // bytes
  std::function<double(double)> connections;  // TCP connections
  // Of which received nothing for --stall-after: leaked ones. Healthy
  // ones carry requests or pings.
  std::function<double(double)> idle = [](double) { return 0.0; };
  // Of which in CLOSE_WAIT: closed by their peers, never by the process.
  std::function<double(double)> close_wait = [](double) { return 0.0; };
  // Descriptors other than sockets past the process's usual 20.
  std::function<double(double)> other_fds = [](double) { return 0.0; };
  // Bytes queued in the kernel on its connections: received and not read,
  // sent and not acknowledged.
  std::function<double(double)> receive_queue = [](double) { return 0.0; };
  std::function<double(double)> send_queue = [](double) { return 0.0; };
  // Connections waiting in its listener's accept queue (limit 128).
  std::function<double(double)> accept_queue = [](double) { return 0.0; };
};

struct Trace {
  std::string name;
  std::string expected;  // the finding kind a leak must produce; empty: healthy
  double hours;
  Shape shape;
};

std::vector<Trace> traces();

// The trace sampled every `interval` seconds over its hours, with 1% of
// deterministic noise on the heap.
std::vector<Observation> samples_of(const Trace& trace, double interval);

// The agent's default windows for this interval: 5 minutes widened to hold
// the samples a verdict needs, an hour, a day.
AnalysisConfig agent_window(double interval);

struct Judgement {
  std::optional<double> first_named, first_warning, first_page;  // seconds into the trace, expected kind
  size_t rounds = 0, false_warning_rounds = 0, false_paging_rounds = 0;
  std::optional<double> last_false_warning;  // seconds into the trace
};

// Replays the samples a round at a time through one SubjectWindow and the
// agent's PagingRule (--page-after 15m).
Judgement replay(const std::vector<Observation>& samples, const std::string& expected, double interval);

// The recordings of real workloads over an hour or more in tests/traces/
// (record-long.sh), each at 15 s and 60 s: NAME-15s.jsonl, NAME-60s.jsonl.
struct RecordedTrace {
  std::string name;
  std::string expected;  // the finding kind it must produce; empty: healthy
  // Healthy growth that looks like a leak until it stops (a cache filling,
  // a heap's first climb before its first collection): seconds from the
  // start after which it must not warn. 0: it never may.
  double warns_until = 0;
};
std::vector<RecordedTrace> recorded_traces();

}  // namespace lw::test
