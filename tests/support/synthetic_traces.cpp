#include "synthetic_traces.h"

#include <algorithm>
#include <cmath>

#include "analyze/paging.h"
#include "analyze/subject_window.h"

namespace lw::test {
namespace {

constexpr double kPerConnection = 48 * kKiB;  // a connection's user-space state

// Growth that stopped after T still shows in the hour window until most of
// its later half is level, at about 1.5 T (trend.h: growth must go on in
// the later half).
constexpr double kLevelledAfter = 1.5;

double sawtooth(double t, double period) { return std::fmod(t, period); }

// One sample of a trace, with 1% of deterministic noise on the heap.
Observation sample(const Trace& trace, double t, std::mt19937& rng) {
  std::uniform_real_distribution<double> noise(-0.01, 0.01);
  Observation o;
  o.time = t;
  const double anon = trace.shape.anon(t);
  o.resident = {.anon = anon * (1 + noise(rng)), .file = 30 * kMiB, .shmem = 0, .total = std::nullopt};
  o.tcp_connections = std::round(trace.shape.connections(t));
  o.idle_connections = std::round(trace.shape.idle(t));
  o.close_wait = std::round(trace.shape.close_wait(t));
  o.socket_fds = o.tcp_connections;
  o.open_fds = o.tcp_connections + 20 + std::round(trace.shape.other_fds(t));
  o.ingress_bytes_total = 20000 * t;  // steady traffic
  lw::EndpointGroup peer;
  peer.peer = "10.0.0.7:5432";
  o.receive_queue_bytes = trace.shape.receive_queue(t);
  o.send_queue_bytes = trace.shape.send_queue(t);
  o.listeners = {{.port = 8000, .waiting = static_cast<uint64_t>(trace.shape.accept_queue(t)), .limit = 128}};
  peer.connections = static_cast<uint64_t>(o.tcp_connections);
  peer.receive_queue_bytes = static_cast<uint64_t>(o.receive_queue_bytes);
  peer.send_queue_bytes = static_cast<uint64_t>(o.send_queue_bytes);
  const auto close_wait = static_cast<uint64_t>(o.close_wait);
  peer.states = {{"ESTABLISHED", peer.connections - close_wait}};
  if (close_wait > 0) peer.states["CLOSE_WAIT"] = close_wait;
  o.endpoints = {peer};
  return o;
}

}  // namespace

std::vector<RecordedTrace> recorded_traces() {
  return {
      {"heap-leak-25kib-per-second", "heap-growth"},
      {"connection-leak-1-per-minute", "connection-leak"},
      {"close-wait-leak-1-per-minute", "close-wait-leak"},
      {"fd-leak-1-per-minute", "fd-leak"},
      {"backlog-drained-every-20s", ""},
      {"short-connections-10-per-second", ""},
      {"pool-filling-to-60", ""},
      // Full after 20 minutes.
      {"cache-warming-20-minutes", "", kLevelledAfter * 20 * kMinute},
      // Collected every 10 minutes: later climbs only regain that level.
      {"gc-sawtooth-10-minutes", "", kLevelledAfter * 10 * kMinute},
  };
}

std::vector<Trace> traces() {
  const double base = 200 * kMiB;
  const auto flat = [](double v) { return [v](double) { return v; }; };
  const auto per_connection = [base](std::function<double(double)> connections) {
    return [base, connections](double t) { return base + kPerConnection * connections(t); };
  };
  const auto pool = [](double t) { return std::min(60.0, 60.0 * t / (10 * kMinute)); };
  const auto morning = [](double t) { return 100 + 600 * t / kHour; };
  const auto daily = [](double t) { return 200 + 150 * std::sin(2 * M_PI * t / (24 * kHour)); };
  const auto one_a_minute = [](double t) { return 20 + std::floor(t / kMinute); };
  const auto minutes = [](double t) { return std::floor(t / kMinute); };
  const auto seconds = [](double t) { return std::floor(t); };
  const auto per_second = [](double t) { return 20 + std::floor(t); };
  // A deploy doubles the replicas' traffic after an hour: 100 connections
  // become 300 over 10 minutes, and stay.
  const auto scale_up = [](double t) { return 100 + 200 * std::clamp((t - kHour) / (10 * kMinute), 0.0, 1.0); };
  // A listener whose workers fall behind: one more connection waits each
  // minute (or second), up to the queue's limit.
  const auto falling_behind = [](double per_second) {
    return [per_second](double t) { return std::min(128.0, std::floor(t * per_second)); };
  };
  // A busy server's queue at a sampling instant: a few, now and then.
  const auto bursts = [](double t) { return static_cast<double>(static_cast<int64_t>(t / 15) * 7 % 9); };
  const auto rate = [](double bytes_per_second) {
    return [bytes_per_second](double t) { return bytes_per_second * t; };
  };
  // A steady process of 20 connections of which one thing changes.
  using Quantity = std::function<double(double)> Shape::*;
  const auto steady_but = [&](Quantity which, std::function<double(double)> shape) {
    Shape s{.anon = flat(base), .connections = flat(20)};
    s.*which = std::move(shape);
    return s;
  };
  // Each leaked connection turns idle once --stall-after (60 s) has passed.
  const auto leaked_idle = [](double t) { return std::max(0.0, std::floor(t / kMinute) - 1); };
  return {
      {"heap leak 25 KiB/s", "heap-growth", 4, {[base](double t) { return base + 25 * kKiB * t; }, flat(20)}},
      {"heap leak 1 MiB/s", "heap-growth", 1, {[base](double t) { return base + kMiB * t; }, flat(20)}},
      {"connection leak 1/min", "connection-leak", 4, {per_connection(one_a_minute), one_a_minute, leaked_idle}},
      {"CLOSE_WAIT leak 1/min",
       "close-wait-leak",
       4,
       {.anon = per_connection(one_a_minute), .connections = one_a_minute, .idle = leaked_idle, .close_wait = minutes}},
      {"CLOSE_WAIT leak 1/s",
       "close-wait-leak",
       1,
       {.anon = per_connection(per_second), .connections = per_second, .idle = per_second, .close_wait = seconds}},
      {"fd leak 1/min", "fd-leak", 4, steady_but(&Shape::other_fds, minutes)},
      {"fd leak 1/s", "fd-leak", 1, steady_but(&Shape::other_fds, seconds)},
      {"receive backlog 25 KiB/s", "socket-receive-backlog", 4, steady_but(&Shape::receive_queue, rate(25 * kKiB))},
      {"receive backlog 1 MiB/s", "socket-receive-backlog", 1, steady_but(&Shape::receive_queue, rate(kMiB))},
      {"send backlog 25 KiB/s", "socket-send-backlog", 4, steady_but(&Shape::send_queue, rate(25 * kKiB))},
      {"send backlog 1 MiB/s", "socket-send-backlog", 1, steady_but(&Shape::send_queue, rate(kMiB))},
      {"listen backlog 1/min", "listen-backlog", 4, steady_but(&Shape::accept_queue, falling_behind(1 / kMinute))},
      {"listen backlog 1/s", "listen-backlog", 1, steady_but(&Shape::accept_queue, falling_behind(1))},
      {"pool filling to 60 in 10 min", "", 4, {per_connection(pool), pool}},
      {"scale-up 100 -> 300 connections", "", 4, {per_connection(scale_up), scale_up}},
      {"WebSockets +600/h for 8 h", "", 8, {per_connection(morning), morning}},
      {"daily connection cycle", "", 24, {per_connection(daily), daily}},
      {"GC sawtooth, 40 min period",
       "",
       4,
       {[base](double t) { return base + 200 * kKiB * sawtooth(t, 40 * kMinute); }, flat(20)}},
      {"cache warming 20 min",
       "",
       4,
       {[base](double t) { return base + 500 * kKiB * std::min(t, 20 * kMinute); }, flat(20)}},
      {"queues steady at 2 MiB, accepts in bursts",
       "",
       4,
       {.anon = flat(base),
        .connections = flat(20),
        .receive_queue = flat(2 * kMiB),
        .send_queue = flat(kMiB),
        .accept_queue = bursts}},
  };
}

std::vector<Observation> samples_of(const Trace& trace, double interval) {
  std::mt19937 rng(20261207);
  std::vector<Observation> samples;
  for (double t = 0; t <= trace.hours * kHour; t += interval) samples.push_back(sample(trace, t, rng));
  return samples;
}

// The agent's default window for this interval: 5 minutes, widened to hold
// the samples a verdict needs.
lw::AnalysisConfig agent_window(double interval) {
  lw::AnalysisConfig config;
  config.window_seconds = std::max(config.window_seconds, static_cast<double>(config.min_samples) * interval);
  return config;
}

Judgement replay(const std::vector<Observation>& samples, const std::string& expected, double interval) {
  lw::SubjectWindow window(agent_window(interval));
  lw::PagingRule paging(15 * kMinute);
  Judgement j;
  for (const auto& o : samples) {
    window.add(o);
    std::vector<lw::ActiveFinding> active;
    for (auto& f : window.findings()) active.push_back({.process = lw::ProcessKey{1, 1}, .finding = std::move(f)});
    paging.update(active, o.time);
    ++j.rounds;
    bool false_warning = false, false_page = false;
    for (const auto& f : active) {
      const bool right = std::string(lw::to_string(f.finding.kind)) == expected;
      const bool serious = f.finding.severity >= lw::Severity::warning;
      if (right && !j.first_named) j.first_named = o.time;
      if (right && serious && !j.first_warning) j.first_warning = o.time;
      if (right && f.paging && !j.first_page) j.first_page = o.time;
      if (!right && serious) j.last_false_warning = o.time;
      false_warning |= !right && serious;
      false_page |= !right && f.paging;
    }
    j.false_warning_rounds += false_warning ? 1 : 0;
    j.false_paging_rounds += false_page ? 1 : 0;
  }
  return j;
}

// What one round's analysis of one subject costs once every window is
// full: 26 hours of a leak at `interval`, findings() timed every 15 s of

}  // namespace lw::test
