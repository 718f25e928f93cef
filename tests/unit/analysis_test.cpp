#include "analyze/statistics.h"
#include "analyze/subject_window.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

namespace lw::test {
namespace {

constexpr double KiB = 1024;
constexpr double MiB = 1024 * KiB;
constexpr double start = 1000;   // a monotonic clock does not start at 0
constexpr double interval = 5;   // seconds between samples
constexpr int full_window = 60;  // 295 s of samples: all fit the default 300 s window

// Deterministic noise, so a failure reproduces.
class Jitter {
 public:
  double operator()(double amplitude) { return std::uniform_real_distribution<double>(-amplitude, amplitude)(rng_); }

 private:
  std::mt19937 rng_{20240611};
};

EndpointGroup endpoint(std::string peer, uint64_t connections) {
  EndpointGroup e;
  e.peer = std::move(peer);
  e.connections = connections;
  return e;
}

// Clients of a listening port, grouped by their address.
EndpointGroup inbound_endpoint(std::string client, uint16_t listening_port, uint64_t connections) {
  EndpointGroup e = endpoint(std::move(client), connections);
  e.inbound = true;
  e.local_port = listening_port;
  return e;
}

// A healthy worker: memory level but noisy, ingress read promptly, a steady
// set of connections and files.
Observation healthy(double time, Jitter& jitter) {
  Observation o;
  o.time = time;
  o.resident.anon = 200 * MiB + jitter(2 * MiB);
  o.resident.file = 50 * MiB + jitter(0.5 * MiB);
  o.resident.shmem = 1 * MiB;
  o.receive_queue_bytes = 64 * KiB + jitter(32 * KiB);
  o.send_queue_bytes = 16 * KiB + jitter(8 * KiB);
  o.ingress_bytes_total = (time - start) * MiB;
  o.tcp_connections = 20 + std::round(jitter(2));
  o.socket_fds = o.tcp_connections + 2;
  o.open_fds = o.socket_fds + 15;
  o.endpoints = {endpoint("10.9.9.9:443", 12), endpoint("10.4.0.2:5432", 8)};
  o.endpoints[0].receive_queue_bytes = static_cast<uint64_t>(o.receive_queue_bytes);
  o.endpoints[0].send_queue_bytes = static_cast<uint64_t>(o.send_queue_bytes);
  return o;
}

// Turns a healthy sample into the scenario's; `elapsed` counts from the first sample.
using Scenario = std::function<void(Observation&, double elapsed, Jitter&)>;

SubjectWindow watch(const Scenario& scenario, int samples = full_window, AnalysisConfig config = {}) {
  SubjectWindow window(config);
  Jitter jitter;
  for (int i = 0; i < samples; ++i) {
    Observation o = healthy(start + i * interval, jitter);
    scenario(o, i * interval, jitter);
    window.add(o);
  }
  return window;
}

std::vector<Finding> findings_of(const Scenario& scenario, int samples = full_window) {
  return watch(scenario, samples).findings();
}

void nothing(Observation&, double, Jitter&) {}

// ---- Leaks, one per finding kind.

void stream_proxy_falling_behind(Observation& o, double elapsed, Jitter& jitter) {
  o.ingress_bytes_total = elapsed * 3 * MiB;
  o.receive_queue_bytes = 1 * MiB + elapsed * 2 * MiB + jitter(1 * MiB);
  auto upstream = endpoint("10.2.0.7:8000", 37);
  upstream.receive_queue_bytes = static_cast<uint64_t>(o.receive_queue_bytes);
  o.endpoints.insert(o.endpoints.begin() + 1, upstream);
}

void pooled_stream_nobody_reads(Observation& o, double elapsed, Jitter& jitter) {
  o.receive_queue_bytes = 6 * MiB + jitter(16 * KiB);  // the buffers are full: flat
  auto stream = endpoint("10.2.0.7:8000", 3);
  stream.receive_queue_bytes = stream.unread_bytes = static_cast<uint64_t>(6 * MiB);
  stream.stalled_sockets = 3;
  stream.stalled_unread_bytes = stream.unread_bytes;
  stream.max_stalled_seconds = 60 + elapsed;
  o.endpoints.push_back(stream);
}

void slow_websocket_consumer(Observation& o, double elapsed, Jitter& jitter) {
  o.send_queue_bytes = 512 * KiB * elapsed + jitter(256 * KiB);
  auto client = inbound_endpoint("10.1.0.9", 8080, 4);
  client.send_queue_bytes = static_cast<uint64_t>(o.send_queue_bytes);
  o.endpoints.push_back(client);
}

// A publisher whose subscriber stopped reading 60 s before the window
// began: the kernel's queue to it sits full at 4 MiB, acknowledged by no
// one, and the publisher keeps the rest in its heap, 1 MiB/s.
void subscriber_stopped_reading(Observation& o, double elapsed, Jitter& jitter) {
  o.resident.anon = 200 * MiB + elapsed * MiB + jitter(2 * MiB);
  o.send_queue_bytes = 4 * MiB + jitter(4 * KiB);
  auto subscriber = inbound_endpoint("10.1.0.9", 8080, 1);
  subscriber.send_queue_bytes = static_cast<uint64_t>(o.send_queue_bytes);
  subscriber.stalled_peers = 1;
  subscriber.stalled_peer_bytes = subscriber.send_queue_bytes;
  subscriber.max_peer_stalled_seconds = 60 + elapsed;
  o.endpoints.insert(o.endpoints.begin(), subscriber);
}

void websockets_never_cleaned_up(Observation& o, double elapsed, Jitter& jitter) {
  const double leaked = std::round(0.2 * elapsed + jitter(2));
  o.tcp_connections += leaked;
  o.socket_fds += leaked;
  o.open_fds = *o.open_fds + leaked;
  o.endpoints.push_back(endpoint("10.3.0.4:6379", static_cast<uint64_t>(10 + leaked)));
}

void peers_closed_process_did_not(Observation& o, double elapsed, Jitter&) {
  const double leaked = std::floor(0.1 * elapsed);
  o.tcp_connections += leaked;
  o.close_wait = leaked;
  o.socket_fds += leaked;
  o.open_fds = *o.open_fds + leaked;
  auto api = endpoint("10.5.0.1:443", static_cast<uint64_t>(2 + leaked));
  api.states["CLOSE_WAIT"] = static_cast<uint64_t>(leaked);
  o.endpoints.push_back(api);
}

void rate_limiter_dict(Observation& o, double elapsed, Jitter&) {
  o.resident.anon = *o.resident.anon + 200 * KiB * elapsed;
}

// Too few workers: 40 to 60 connections wait on :8000 at every sample.
void too_few_workers(Observation& o, double, Jitter& jitter) {
  o.listeners = {{8000, static_cast<uint64_t>(50 + std::round(jitter(10))), 2048}, {9090, 0, 128}};
}

void temp_files_left_open(Observation& o, double elapsed, Jitter&) {
  o.open_fds = *o.open_fds + std::floor(0.1 * elapsed);
}

std::vector<FindingKind> kinds(const std::vector<Finding>& findings) {
  std::vector<FindingKind> k;
  for (const auto& f : findings) k.push_back(f.kind);
  return k;
}

void expect_only(const std::vector<Finding>& findings, FindingKind kind) {
  ASSERT_EQ(kinds(findings), std::vector<FindingKind>{kind});
  const Finding& f = findings.front();
  EXPECT_GT(f.confidence, 0.5);
  EXPECT_LE(f.confidence, 1.0);
  EXPECT_GE(f.share_of_growth, 0.0);
  EXPECT_LE(f.share_of_growth, 1.0);
  EXPECT_LE(f.top_contributors.size(), 5u);
  EXPECT_FALSE(f.explanation.empty());
  EXPECT_FALSE(f.suggested_fix.empty());
}

TEST(TheilSen, ExactOnALine) {
  std::vector<double> t, y;
  for (int i = 0; i < 20; ++i) {
    t.push_back(i * 1.5);
    y.push_back(3 * t.back() + 2);
  }
  EXPECT_DOUBLE_EQ(*theil_sen_slope(t, y), 3.0);
}

TEST(TheilSen, IgnoresThirtyPercentOutliers) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> spike(0, 1000);
  std::vector<double> t, y;
  for (int i = 0; i < 100; ++i) {
    t.push_back(i);
    y.push_back(3 * i + 2 + (i % 10 < 3 ? spike(rng) : 0));
  }
  EXPECT_NEAR(*theil_sen_slope(t, y), 3.0, 0.3);
}

TEST(TheilSen, NeedsTwoDistinctTimes) {
  EXPECT_FALSE(theil_sen_slope({}, {}));
  EXPECT_FALSE(theil_sen_slope({1, 1, 1}, {1, 2, 3}));
  EXPECT_DOUBLE_EQ(*theil_sen_slope({1, 3}, {0, 4}), 2.0);
}

TEST(Pearson, Basics) {
  EXPECT_NEAR(*pearson({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0, 1e-12);
  EXPECT_NEAR(*pearson({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0, 1e-12);
  EXPECT_NEAR(*pearson({1, 2, 3, 4}, {1, -1, -1, 1}), 0.0, 1e-12);
  EXPECT_FALSE(pearson({1, 2, 3}, {5, 5, 5}));
  EXPECT_FALSE(pearson({1, 2}, {1, 2}));
}

TEST(Findings, ReceiveBacklogOfAStreamProxy) {
  const auto findings = findings_of(stream_proxy_falling_behind);
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::socket_receive_backlog));
  const Finding& f = findings.front();
  EXPECT_NEAR(f.growth_per_second, 2 * MiB, 0.1 * MiB);
  EXPECT_GT(f.share_of_growth, 0.9);
  EXPECT_GT(*f.ingress_correlation, 0.95);
  EXPECT_EQ(f.severity, Severity::critical);
  EXPECT_EQ(f.top_contributors.front().endpoint, "10.2.0.7:8000");
  EXPECT_EQ(f.top_contributors.front().connections, 37u);
  EXPECT_NE(f.explanation.find("2.0 MiB/s on 37 connections to 10.2.0.7:8000"), std::string::npos) << f.explanation;
  EXPECT_NE(f.explanation.find("tracks ingress"), std::string::npos) << f.explanation;
}

TEST(Findings, StalledReaderOnAFlatBacklogIsStillAFinding) {
  const auto findings = findings_of(pooled_stream_nobody_reads);
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::socket_receive_backlog));
  const Finding& f = findings.front();
  const Contributor& top = f.top_contributors.front();
  EXPECT_EQ(top.endpoint, "10.2.0.7:8000");
  EXPECT_DOUBLE_EQ(*top.stalled_seconds, 355);
  EXPECT_NE(f.explanation.find("6.0 MiB sit unread on 3 connections to 10.2.0.7:8000"), std::string::npos)
      << f.explanation;
  EXPECT_NE(f.explanation.find("for 5m55s"), std::string::npos) << f.explanation;
  EXPECT_NE(f.suggested_fix.find("stop pooling"), std::string::npos);
}

TEST(Findings, SendBacklogOfASlowConsumer) {
  const auto findings = findings_of(slow_websocket_consumer);
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::socket_send_backlog));
  EXPECT_EQ(findings.front().top_contributors.front().endpoint, "10.1.0.9->:8080");
  EXPECT_NEAR(findings.front().growth_per_second, 512 * KiB, 50 * KiB);
}

// The heap grows only because a peer stalled: the growth is the peer's, and
// the finding names it instead of a heap leak.
TEST(Findings, HeapGrowthSinceAPeerStalledIsThatPeers) {
  const auto findings = findings_of(subscriber_stopped_reading);
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::socket_send_backlog));
  const Finding& f = findings.front();
  EXPECT_EQ(f.top_contributors.front().endpoint, "10.1.0.9->:8080");
  EXPECT_NEAR(f.growth_per_second, MiB, 0.1 * MiB) << "the heap's growth, the queue being full";
  EXPECT_GT(f.share_of_growth, 0.9);
  EXPECT_NE(f.explanation.find("4.0 MiB wait to be sent on 1 connection to 10.1.0.9->:8080 whose peer has taken "
                               "nothing for 5m55s"),
            std::string::npos)
      << f.explanation;
  EXPECT_NE(f.explanation.find("the process's own memory grows"), std::string::npos) << f.explanation;
  EXPECT_NE(f.suggested_fix.find("disconnect consumers that stop reading"), std::string::npos);

  // The same heap growth with the peer still taking data is a heap leak.
  const auto unstalled = findings_of([](Observation& o, double elapsed, Jitter& jitter) {
    subscriber_stopped_reading(o, elapsed, jitter);
    o.endpoints.front().stalled_peers = 0;
  });
  EXPECT_EQ(kinds(unstalled), std::vector{FindingKind::heap_growth});
}

TEST(Findings, ConnectionLeak) {
  const auto findings = findings_of(websockets_never_cleaned_up);
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::connection_leak));
  EXPECT_NEAR(findings.front().growth_per_second, 0.2, 0.03);
  EXPECT_EQ(findings.front().top_contributors.front().endpoint, "10.3.0.4:6379");
}

TEST(Findings, CloseWaitLeakIsReportedInsteadOfAConnectionLeak) {
  const auto findings = findings_of(peers_closed_process_did_not);
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::close_wait_leak));
  const Contributor& top = findings.front().top_contributors.front();
  EXPECT_EQ(top.endpoint, "10.5.0.1:443");
  EXPECT_EQ(top.connections, 29u);  // in CLOSE_WAIT
}

TEST(Findings, CloseWaitHeldAtALevelIsALeak) {
  const auto findings = findings_of([](Observation& o, double, Jitter&) {
    o.close_wait = 25;
    o.tcp_connections += 25;
  });
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::close_wait_leak));
  EXPECT_EQ(findings.front().severity, Severity::warning);
}

TEST(Findings, HeapGrowthWhileSocketsStayFlat) {
  const auto findings = findings_of(rate_limiter_dict);
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::heap_growth));
  EXPECT_NEAR(findings.front().growth_per_second, 200 * KiB, 20 * KiB);
  EXPECT_GT(findings.front().share_of_growth, 0.8);
  EXPECT_TRUE(findings.front().top_contributors.empty());
}

TEST(Findings, FdLeak) {
  const auto findings = findings_of(temp_files_left_open);
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::fd_leak));
  EXPECT_NEAR(findings.front().growth_per_second, 0.1, 0.02);
}

TEST(Findings, ListenBacklogOfTooFewWorkers) {
  const auto findings = findings_of(too_few_workers);
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::listen_backlog));
  const Finding& f = findings.front();
  EXPECT_EQ(f.severity, Severity::warning);
  ASSERT_EQ(f.top_contributors.size(), 1u);
  EXPECT_EQ(f.top_contributors.front().endpoint, ":8000");
  EXPECT_NE(f.explanation.find("on port 8000 (queue limit 2048)"), std::string::npos) << f.explanation;
}

TEST(Findings, AFullAcceptQueueSaysConnectionsAreDropped) {
  const auto findings = findings_of([](Observation& o, double, Jitter&) { o.listeners = {{8000, 129, 128}}; });
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::listen_backlog));
  EXPECT_GE(findings.front().confidence, 0.9);
  EXPECT_NE(findings.front().explanation.find("new connections are dropped"), std::string::npos);
}

// gunicorn behind nginx on a unix socket: the listener is named by its
// path, and a full unix queue makes connect() fail, not drop a SYN.
TEST(Findings, ListenBacklogOnAUnixSocketNamesItsPath) {
  const auto findings = findings_of([](Observation& o, double, Jitter&) {
    o.listeners = {{.waiting = 129, .limit = 128, .path = "/run/gunicorn.sock"}, {8000, 0, 128}};
  });
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::listen_backlog));
  const Finding& f = findings.front();
  ASSERT_EQ(f.top_contributors.size(), 1u);
  EXPECT_EQ(f.top_contributors.front().endpoint, "/run/gunicorn.sock");
  EXPECT_NE(f.explanation.find("129 connections wait to be accepted on unix socket /run/gunicorn.sock (queue limit "
                               "128, full: new connections block or fail with EAGAIN)"),
            std::string::npos)
      << f.explanation;
}

TEST(Findings, SortedBySeverityThenShare) {
  const auto findings = findings_of([](Observation& o, double elapsed, Jitter& jitter) {
    stream_proxy_falling_behind(o, elapsed, jitter);
    temp_files_left_open(o, elapsed, jitter);
  });
  EXPECT_EQ(kinds(findings), (std::vector{FindingKind::socket_receive_backlog, FindingKind::fd_leak}));
}

// ---- Healthy controls: no finding.

TEST(HealthyControls, NoiseAroundAFlatLevel) { EXPECT_TRUE(findings_of(nothing).empty()); }

TEST(HealthyControls, FastStreamReadPromptly) {
  const auto findings =
      findings_of([](Observation& o, double elapsed, Jitter&) { o.ingress_bytes_total = elapsed * 50 * MiB; });
  EXPECT_TRUE(findings.empty());
}

// Six samples of a busy client's connection count, a few sockets in flight
// at any time: rising order by chance (Kendall tau 0.87), but a swing, not a
// leak. Seen as a false connection-leak on real churn before counts had to
// rise clear of their noise.
TEST(HealthyControls, ShortSwingOfASmallCountIsNoLeak) {
  SubjectWindow window{AnalysisConfig{}};
  const double counts[] = {0, 2, 1, 3, 4, 4};
  Jitter jitter;
  for (int i = 0; i < 6; ++i) {
    Observation o = healthy(start + i * interval, jitter);
    o.tcp_connections = counts[i];
    o.socket_fds = counts[i] + 2;
    o.open_fds = o.socket_fds + 15;
    window.add(o);
  }
  EXPECT_TRUE(window.findings().empty());
}

// A busy server catches a burst in its queue now and then, and empties it.
// A TLS close_notify (31 bytes) left unread on an idle pooled connection
// raised a socket-receive-backlog warning on a live process.
TEST(HealthyControls, AFewBytesLeftOnAnIdlePooledConnection) {
  EXPECT_TRUE(findings_of([](Observation& o, double elapsed, Jitter&) {
                auto pooled = endpoint("10.2.0.9:443", 1);
                pooled.receive_queue_bytes = 768;
                pooled.unread_bytes = pooled.stalled_unread_bytes = 31;
                pooled.stalled_sockets = 1;
                pooled.max_stalled_seconds = 600 + elapsed;
                o.endpoints.push_back(pooled);
              }).empty());
}

TEST(HealthyControls, AcceptQueueBurstsThatEmpty) {
  const auto findings = findings_of([](Observation& o, double elapsed, Jitter&) {
    const bool burst = static_cast<int>(elapsed) % 50 < 5;
    o.listeners = {{8000, burst ? 80u : 2u, 2048}};
  });
  EXPECT_TRUE(findings.empty());
}

TEST(HealthyControls, HeavyConnectionChurn) {
  const auto findings = findings_of([](Observation& o, double, Jitter& jitter) {
    const double churn = std::round(jitter(15));
    o.tcp_connections += churn;
    o.socket_fds += churn;
    o.open_fds = *o.open_fds + churn;
    o.close_wait = std::round(1.5 + jitter(1.5));
  });
  EXPECT_TRUE(findings.empty());
}

TEST(HealthyControls, CacheWarmsUpThenLevelsOff) {
  const auto findings = findings_of([](Observation& o, double elapsed, Jitter&) {
    o.resident.anon = *o.resident.anon + std::min(elapsed, 150.0) * MiB;
  });
  EXPECT_TRUE(findings.empty());
}

TEST(HealthyControls, LargeBacklogBeingDrained) {
  const auto findings = findings_of([](Observation& o, double elapsed, Jitter& jitter) {
    o.receive_queue_bytes = 400 * MiB - elapsed * MiB + jitter(1 * MiB);
    auto upstream = endpoint("10.2.0.7:8000", 37);
    upstream.receive_queue_bytes = static_cast<uint64_t>(o.receive_queue_bytes);
    o.endpoints.push_back(upstream);
  });
  EXPECT_TRUE(findings.empty());
}

// ---- Imperfect data.

TEST(ImperfectData, IrregularGapsAndMissingFields) {
  SubjectWindow window({});
  Jitter jitter;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> gap(2, 15);
  double time = start;
  for (int i = 0; i < 40; ++i, time += gap(rng)) {
    Observation o = healthy(time, jitter);
    rate_limiter_dict(o, time - start, jitter);
    if (i % 4 == 1) o.resident.anon.reset();
    if (i % 5 == 2) o.open_fds.reset();
    window.add(o);
  }
  ASSERT_NO_FATAL_FAILURE(expect_only(window.findings(), FindingKind::heap_growth));
}

// Memory fields unknown for the first half must not read as a rise from 0.
void memory_unknown_at_first(Observation& o, double elapsed, Jitter&) {
  if (elapsed >= 150) return;
  o.resident.anon.reset();
  o.resident.file.reset();
  o.open_fds.reset();
}

TEST(ImperfectData, UnknownIsNotZero) {
  EXPECT_TRUE(findings_of(memory_unknown_at_first).empty());
  const auto findings = findings_of([](Observation& o, double elapsed, Jitter& jitter) {
    rate_limiter_dict(o, elapsed, jitter);
    memory_unknown_at_first(o, elapsed, jitter);
  });
  ASSERT_NO_FATAL_FAILURE(expect_only(findings, FindingKind::heap_growth));
  EXPECT_NEAR(findings.front().growth_per_second, 200 * KiB, 40 * KiB);
}

TEST(ImperfectData, IngressCounterResetKeepsIngressCumulative) {
  const auto findings = findings_of([](Observation& o, double elapsed, Jitter& jitter) {
    stream_proxy_falling_behind(o, elapsed, jitter);
    if (elapsed >= 150) o.ingress_bytes_total = (elapsed - 150) * 3 * MiB;
  });
  ASSERT_EQ(kinds(findings), std::vector{FindingKind::socket_receive_backlog});
  EXPECT_GT(*findings.front().ingress_correlation, 0.95);
}

TEST(ImperfectData, NoVerdictBeforeMinSamples) {
  EXPECT_TRUE(findings_of(stream_proxy_falling_behind, 5).empty());
  EXPECT_FALSE(findings_of(stream_proxy_falling_behind, 6).empty());
}

TEST(ImperfectData, OlderOrEqualTimesAreIgnored) {
  SubjectWindow window({});
  Jitter jitter;
  window.add(healthy(start + 10, jitter));
  window.add(healthy(start + 10, jitter));
  window.add(healthy(start + 5, jitter));
  EXPECT_EQ(window.samples(), 1u);
}

TEST(ImperfectData, OldSamplesLeaveTheWindow) {
  AnalysisConfig config;
  config.window_seconds = 60;
  config.longer_windows_seconds = {};
  const auto window = watch(nothing, full_window, config);
  EXPECT_EQ(window.samples(), 60u);
  EXPECT_EQ(window.points(), 13u) << "60 s of samples 5 s apart";
  EXPECT_DOUBLE_EQ(window.span_seconds(), 295) << "all taken in";
}

// ---- Time to the memory limit.

// Everything exact: the footprint grows by 1 MiB/s through the receive queue.
void exact_receive_growth(Observation& o, double elapsed, Jitter&) {
  o.resident.anon = 200 * MiB;
  o.resident.file = 50 * MiB;
  o.resident.shmem = 1 * MiB;
  o.send_queue_bytes = 0;
  o.receive_queue_bytes = elapsed * MiB;
  o.memory_limit = 251 * MiB + 295 * MiB + 1800 * MiB;  // 1800 s after the last sample
}

TEST(TimeToLimit, FromTheFootprint) {
  const auto findings = findings_of(exact_receive_growth);
  ASSERT_EQ(kinds(findings), std::vector{FindingKind::socket_receive_backlog});
  EXPECT_NEAR(*findings.front().seconds_to_limit, 1800, 1e-6);
  EXPECT_EQ(findings.front().severity, Severity::critical);
  EXPECT_NE(findings.front().explanation.find("reached in about 30 minutes"), std::string::npos)
      << findings.front().explanation;
}

TEST(TimeToLimit, FromTheCgroupUsageWhenKnown) {
  const auto findings = findings_of([](Observation& o, double elapsed, Jitter& jitter) {
    exact_receive_growth(o, elapsed, jitter);
    o.memory_usage = 251 * MiB + elapsed * MiB + 100 * MiB;  // the cgroup holds more than this process
  });
  EXPECT_NEAR(*findings.front().seconds_to_limit, 1700, 1e-6);
}

TEST(TimeToLimit, UnknownWithoutALimit) {
  const auto findings = findings_of(stream_proxy_falling_behind);
  EXPECT_FALSE(findings.front().seconds_to_limit);
}

TEST(Names, KindsAndSeverities) {
  EXPECT_EQ(to_string(FindingKind::close_wait_leak), "close-wait-leak");
  EXPECT_EQ(to_string(Severity::critical), "critical");
}

}  // namespace
}  // namespace lw::test
