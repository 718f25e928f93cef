// The agent's diagnosis over rounds of synthetic samples: which subject a
// finding is about, when it starts and ends.
#include "analyze/leak_detector.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "model/observation.h"

namespace lw {
namespace {

ProcessSample worker(pid_t pid, uint64_t start_time, const std::string& cgroup, double anon) {
  ProcessSample p;
  p.key = {pid, start_time};
  p.comm = "worker";
  p.cgroup = cgroup;
  p.resident.anon = static_cast<uint64_t>(anon);
  p.resident.file = 1 << 20;
  p.resident.shmem = 0;
  p.open_fds = 10;
  return p;
}

NodeSample round_of(std::vector<ProcessSample> processes) {
  NodeSample s;
  for (const auto& p : processes) {
    auto& c = s.cgroups[p.cgroup];
    c.path = p.cgroup;
    c.processes++;
  }
  s.processes = std::move(processes);
  return s;
}

// Rounds one second apart, from second `first` on.
std::vector<FindingChange> run(LeakDetector& d, int rounds, const std::function<NodeSample(int)>& sample,
                               int first = 0) {
  std::vector<FindingChange> changes;
  for (int i = first; i < first + rounds; ++i) {
    d.update(sample(i), i);
    for (auto& c : d.take_changes()) changes.push_back(std::move(c));
  }
  return changes;
}

TEST(LeakDetector, OneLeakingProcessIsReportedOnceAboutThatProcess) {
  LeakDetector d(AnalysisConfig{});
  const auto changes = run(d, 12, [](int i) {
    return round_of({worker(10, 1, "/pod/a", 50e6 + 2e6 * i), worker(11, 1, "/pod/a", 40e6)});
  });
  ASSERT_EQ(d.active().size(), 1u) << "no second finding about the cgroup for the same leak";
  EXPECT_EQ(d.active()[0].finding.kind, FindingKind::heap_growth);
  ASSERT_TRUE(d.active()[0].process);
  EXPECT_EQ(d.active()[0].process->pid, 10);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_TRUE(changes[0].started);
}

// Twenty workers, each growing too slowly to be a finding on its own: the
// container as a whole leaks 20 times as fast.
TEST(LeakDetector, LeakSpreadOverWorkersIsFoundOnTheCgroup) {
  LeakDetector d(AnalysisConfig{});
  run(d, 15, [](int i) {
    std::vector<ProcessSample> workers;
    for (pid_t pid = 100; pid < 120; ++pid) workers.push_back(worker(pid, 1, "/pod/web", 30e6 + 30e3 * i));
    return round_of(std::move(workers));
  });
  ASSERT_EQ(d.active().size(), 1u);
  const ActiveFinding& f = d.active()[0];
  EXPECT_FALSE(f.process) << "about the cgroup, not a process";
  EXPECT_EQ(f.cgroup, "/pod/web");
  EXPECT_EQ(f.finding.kind, FindingKind::heap_growth);
  EXPECT_NEAR(f.finding.growth_per_second, 20 * 30e3, 20 * 30e3 * 0.05);
}

// A pre-fork master and 4 workers, each replaced after 20 rounds (staggered
// by 5): a worker's memory grows by `leak` bytes a round from 30 MB while
// it lives, so the container's total stays bounded.
NodeSample recycled_workers(int round, double leak) {
  std::vector<ProcessSample> processes{worker(1, 1, "/pod/web", 60e6)};
  for (int slot = 0; slot < 4; ++slot) {
    const int age = (round + 5 * slot) % 20;
    const int generation = (round + 5 * slot) / 20;
    const auto pid = static_cast<pid_t>(100 + 10 * slot + generation);
    processes.push_back(worker(pid, static_cast<uint64_t>(round - age + 1000), "/pod/web", 30e6 + leak * age));
  }
  return round_of(std::move(processes));
}

// What restarts hide, the lives of the workers show: named once, about
// the cgroup, and held while workers come and go.
TEST(LeakDetector, ALeakThatRecyclingWorkersHidesIsFoundOnTheCgroup) {
  LeakDetector d(AnalysisConfig{});
  const auto changes = run(d, 200, [](int i) { return recycled_workers(i, 1e6); });
  ASSERT_EQ(d.active().size(), 1u);
  const ActiveFinding& f = d.active()[0];
  EXPECT_FALSE(f.process) << "about the cgroup";
  EXPECT_EQ(f.cgroup, "/pod/web");
  EXPECT_EQ(f.finding.kind, FindingKind::heap_growth);
  EXPECT_TRUE(f.finding.across_restarts);
  EXPECT_NEAR(f.finding.growth_per_second, 1e6, 0.05e6);
  EXPECT_GE(f.finding.severity, Severity::warning);
  EXPECT_NE(f.finding.explanation.find("workers grew"), std::string::npos) << f.finding.explanation;
  // Once named, it stays: no start and end with every worker.
  const auto about_cgroup = std::count_if(changes.begin(), changes.end(), [](const FindingChange& c) {
    return !c.finding.process && c.finding.finding.across_restarts;
  });
  EXPECT_EQ(about_cgroup, 1);
  EXPECT_LT(f.since, 100) << "named within the first few lives";
}

TEST(LeakDetector, WorkersRecycledWithoutALeakAreNoFinding) {
  LeakDetector d(AnalysisConfig{});
  const auto changes = run(d, 200, [](int i) { return recycled_workers(i, 0); });
  EXPECT_TRUE(d.active().empty());
  EXPECT_TRUE(changes.empty());
}

TEST(LeakDetector, PidReuseStartsAFreshWindowAndEndsTheOldFinding) {
  LeakDetector d(AnalysisConfig{});
  run(d, 12, [](int i) { return round_of({worker(10, 1, "/pod/a", 50e6 + 2e6 * i)}); });
  ASSERT_EQ(d.active().size(), 1u);
  // The leaking process exits; a new one gets its PID and does not leak.
  const auto changes = run(
      d, 3, [](int) { return round_of({worker(10, 999, "/pod/a", 20e6)}); }, 12);
  EXPECT_TRUE(d.active().empty()) << "the new process inherits nothing, and its cgroup does not flap";
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].started);
  EXPECT_EQ(changes[0].finding.process->start_time, 1u);
}

// A fan-out server's subscriber stops reading: the send queue grows for 6
// rounds until the kernel's buffer is full, then sits at 6 MB; the peer
// counts as stalled from round `stalled_from`, and the backlog is gone
// from round `drained_from`.
NodeSample fan_out(int round, int stalled_from, int drained_from) {
  ProcessSample p = worker(10, 1, "/pod/broker", 40e6);
  const bool drained = round >= drained_from;
  const uint64_t queued = drained ? 0 : static_cast<uint64_t>(std::min(round, 6)) * 1'000'000;
  EndpointGroup subscriber;
  subscriber.peer = "10.0.0.7";
  subscriber.inbound = true;
  subscriber.local_port = 8080;
  subscriber.connections = 1;
  subscriber.states["ESTABLISHED"] = 1;
  subscriber.send_queue_bytes = queued;
  if (!drained && round >= stalled_from) {
    subscriber.stalled_peers = 1;
    subscriber.stalled_peer_bytes = queued;
    subscriber.max_peer_stalled_seconds = 60 + round - stalled_from;
  }
  p.sockets.sockets = p.sockets.descriptors = 1;
  p.sockets.send_queue_bytes = queued;
  p.sockets.by_kind["tcp"] = 1;
  p.sockets.by_tcp_state["ESTABLISHED"] = 1;
  p.sockets.endpoints = {subscriber};
  p.sockets.endpoints_total = 1;
  return round_of({p});
}

// The queue stops growing two rounds before its peer counts as stalled:
// one rule hands over to the other, and the finding neither ends nor
// restarts.
TEST(LeakDetector, AFindingMissingForTwoRoundsGoesOnWithoutEndingOrRestarting) {
  constexpr int rounds = 14, stalled_from = 11, never = 1000;
  const AnalysisConfig config;
  // The analysis alone: the rounds in which the window has the finding.
  SubjectWindow window(config);
  std::vector<int> missing;
  int first = -1;
  for (int i = 0; i < rounds; ++i) {
    window.add(observe_process(fan_out(i, stalled_from, never).processes[0], nullptr, i));
    const bool found = !window.findings().empty();
    if (found && first < 0) first = i;
    if (!found && first >= 0) missing.push_back(i);
  }
  ASSERT_GE(first, 0);
  ASSERT_LT(first, stalled_from) << "the growth is found before the stall";
  ASSERT_EQ(missing, (std::vector<int>{stalled_from - 2, stalled_from - 1})) << "a gap of two rounds to bridge";

  LeakDetector d(config);
  const auto changes = run(d, rounds, [](int i) { return fan_out(i, stalled_from, never); });
  ASSERT_EQ(changes.size(), 1u) << "one start, no end";
  EXPECT_TRUE(changes[0].started);
  EXPECT_EQ(changes[0].finding.finding.kind, FindingKind::socket_send_backlog);
  ASSERT_EQ(d.active().size(), 1u);
  EXPECT_EQ(d.active()[0].since, first);
  EXPECT_EQ(d.active()[0].missing_rounds, 0);
}

// Once what it named is gone, it ends on its third round missing, not later.
TEST(LeakDetector, AFindingEndsOnceMissingForThreeRounds) {
  LeakDetector d(AnalysisConfig{});
  run(d, 12, [](int i) { return fan_out(i, 5, 12); });
  ASSERT_EQ(d.active().size(), 1u);
  for (int missing = 1; missing < kEndAfterMissingRounds; ++missing) {
    const auto changes = run(
        d, 1, [](int i) { return fan_out(i, 5, 12); }, 11 + missing);
    EXPECT_TRUE(changes.empty()) << "ended after " << missing << " round(s)";
    ASSERT_EQ(d.active().size(), 1u);
    EXPECT_EQ(d.active()[0].missing_rounds, missing);
  }
  const auto changes = run(
      d, 1, [](int i) { return fan_out(i, 5, 12); }, 11 + kEndAfterMissingRounds);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].started);
  EXPECT_TRUE(d.active().empty());
}

}  // namespace
}  // namespace lw
