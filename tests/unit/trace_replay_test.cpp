// The analysis held to the README's lw-bench-traces table: hours of
// synthetic production-like traces at the intervals users run (15 s, 60 s),
// replayed a round at a time as the agent judges them.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "analyze/subject_window.h"
#include "output/recording.h"
#include "synthetic_traces.h"

namespace lw::test {
namespace {

struct Replayed {
  Trace trace;
  double interval;
  Judgement judgement;
};

std::vector<Replayed> replay_all(const std::function<bool(const Trace&)>& which) {
  std::vector<Replayed> all;
  for (const Trace& trace : traces()) {
    if (!which(trace)) continue;
    for (const double interval : {15.0, 60.0}) {
      all.push_back({trace, interval, replay(samples_of(trace, interval), trace.expected, interval)});
    }
  }
  return all;
}

std::string name_of(const Replayed& r) { return r.trace.name + " at " + std::to_string(r.interval) + " s"; }

// 25 KiB/s and a connection a minute within the hour (the 5-minute window
// alone never named them), and the other counts at one a minute; 1 MiB/s
// and one a second at the earliest a 6-sample verdict allows: the 6th
// sample.
TEST(TraceReplay, LeaksAreNamedWithinTheirTargetsAndNothingElseWarns) {
  for (const auto& r : replay_all([](const Trace& t) { return !t.expected.empty(); })) {
    ASSERT_TRUE(r.judgement.first_named) << name_of(r);
    const bool fast = r.trace.name.ends_with("1 MiB/s") || r.trace.name.ends_with("1/s");
    EXPECT_LE(*r.judgement.first_named, fast ? 5 * r.interval : kHour) << name_of(r);
    ASSERT_TRUE(r.judgement.first_warning) << name_of(r);
    EXPECT_EQ(r.judgement.false_warning_rounds, 0u) << name_of(r);
  }
}

// Connections that carry data follow demand: a pool filling, a morning of
// WebSockets, a daily cycle.
TEST(TraceReplay, ConnectionsThatFollowDemandNeverWarn) {
  const auto demand = replay_all([](const Trace& t) {
    return t.name.find("pool") != std::string::npos || t.name.find("WebSockets") != std::string::npos ||
           t.name.find("daily") != std::string::npos;
  });
  ASSERT_EQ(demand.size(), 6u);
  for (const auto& r : demand) EXPECT_EQ(r.judgement.false_warning_rounds, 0u) << name_of(r);
}

// Backlogs that stay level (a reader keeping up with what is in flight) and
// accept queues that catch a few connections now and then are load.
TEST(TraceReplay, LevelQueuesAndAcceptBurstsNeverWarn) {
  const auto level = replay_all([](const Trace& t) { return t.name.starts_with("queues steady"); });
  ASSERT_EQ(level.size(), 2u);
  for (const auto& r : level) EXPECT_EQ(r.judgement.false_warning_rounds, 0u) << name_of(r);
}

// A GC sawtooth's first 40-minute climb cannot be told from a leak; every
// later one only regains a level already held. A cache warming for 20
// minutes looks like a leak until it levels off, and not after.
TEST(TraceReplay, ACycleWarnsOnlyOnItsFirstClimbAndAWarmCacheNotOnceLevelled) {
  for (const auto& r : replay_all([](const Trace& t) { return t.name.find("sawtooth") != std::string::npos; })) {
    ASSERT_TRUE(r.judgement.last_false_warning) << name_of(r);
    EXPECT_LE(*r.judgement.last_false_warning, 41 * kMinute) << name_of(r);
  }
  for (const auto& r : replay_all([](const Trace& t) { return t.name.find("cache") != std::string::npos; })) {
    ASSERT_TRUE(r.judgement.last_false_warning) << name_of(r);
    EXPECT_LE(*r.judgement.last_false_warning, 30 * kMinute) << name_of(r);
  }
}

// Leaked connections hold memory in the process (48 KiB each here): growth
// in step with them is theirs, said in their finding; a heap that grows
// faster than connections can hold is a second leak, named as such.
TEST(TraceReplay, MemoryThatLeakedConnectionsHoldIsTheirsAndAFasterHeapIsItsOwnLeak) {
  const auto verdict = [](const Trace& trace) {
    SubjectWindow window(agent_window(15));
    for (const auto& o : samples_of(trace, 15)) window.add(o);
    std::map<std::string, std::string> said;
    for (const auto& f : window.findings()) said[std::string(to_string(f.kind))] = f.explanation;
    return said;
  };
  const auto all = traces();
  const auto close_wait =
      std::find_if(all.begin(), all.end(), [](const Trace& t) { return t.name == "CLOSE_WAIT leak 1/s"; });
  ASSERT_NE(close_wait, all.end());
  const auto alone = verdict(*close_wait);
  ASSERT_TRUE(alone.contains("close-wait-leak"));
  EXPECT_FALSE(alone.contains("heap-growth")) << alone.at("heap-growth");
  EXPECT_EQ(alone.size(), 1u);
  EXPECT_NE(alone.at("close-wait-leak").find("KiB/s with them (48."), std::string::npos) << alone.at("close-wait-leak");

  Trace both = *close_wait;
  const auto with_connections = both.shape.anon;
  both.shape.anon = [with_connections](double t) { return with_connections(t) + kMiB * t; };
  const auto two = verdict(both);
  EXPECT_TRUE(two.contains("close-wait-leak"));
  ASSERT_TRUE(two.contains("heap-growth")) << "1 MiB per new connection is more than connections hold";
}

// Watches of real workloads on loopback, recorded by tests/traces/record.sh:
// the kernel's own numbers, replayed offline to the verdict the watch gave.
TEST(TraceReplay, RecordedWorkloadsReplayToTheirVerdicts) {
  struct Expected {
    std::string file;
    std::optional<FindingKind> kind;
    std::string endpoint_prefix;  // of the top contributor
    std::string said;             // in the explanation
  };
  const std::vector<Expected> expected{
      {"stalled-subscriber-of-a-fan-out", FindingKind::socket_send_backlog,
       "127.0.0.1->:", "whose peer has taken nothing"},
      {"connection-leak", FindingKind::connection_leak, "127.0.0.1:", "Open TCP connections grow"},
      {"slow-reader-of-a-stream", FindingKind::socket_receive_backlog, "127.0.0.1:", "Receive queues grow"},
      {"busy-connections-growing", std::nullopt, "", ""},
  };
  for (const auto& e : expected) {
    const Recording r = read_recording(std::string(LW_SOURCE_DIR) + "/tests/traces/" + e.file + ".jsonl");
    SubjectWindow window(analysis_config(r.header));
    for (const auto& o : r.samples) window.add(o);
    const auto found = window.findings();
    if (!e.kind) {
      EXPECT_TRUE(found.empty()) << e.file << ": " << found.front().explanation;
      continue;
    }
    ASSERT_FALSE(found.empty()) << e.file;
    EXPECT_EQ(found.front().kind, *e.kind) << e.file << ": " << found.front().explanation;
    ASSERT_FALSE(found.front().top_contributors.empty()) << e.file;
    EXPECT_EQ(found.front().top_contributors.front().endpoint.rfind(e.endpoint_prefix, 0), 0u) << e.file;
    EXPECT_NE(found.front().explanation.find(e.said), std::string::npos) << e.file << ": " << found.front().explanation;
  }
}

// Real workloads watched for over an hour at 15 s and 60 s, recorded by
// tests/traces/record-long.sh, judged round by round as the agent would:
// the slow leaks warned within the hour with nothing else warning, the
// healthy load never.
TEST(TraceReplay, HourLongRecordingsOfRealWorkloadsAreJudgedAsTheAgentWould) {
  for (const auto& [name, kind, warns_until] : recorded_traces()) {
    for (const char* interval : {"15s", "60s"}) {
      const std::string file = name + "-" + interval;
      const Recording r = read_recording(std::string(LW_SOURCE_DIR) + "/tests/traces/" + file + ".jsonl");
      ASSERT_GE(r.samples.back().time - r.samples.front().time, 3600.0) << file << ": shorter than an hour";
      const Judgement j = replay(r.samples, kind, r.header.interval_seconds);
      if (warns_until > 0) {
        EXPECT_LE(j.last_false_warning.value_or(0), warns_until) << file << ": still warns after its growth stopped";
        continue;
      }
      EXPECT_EQ(j.false_warning_rounds, 0u) << file << ": last at " << j.last_false_warning.value_or(-1) << " s";
      if (kind.empty()) continue;
      ASSERT_TRUE(j.first_warning) << file;
      EXPECT_LE(*j.first_warning, 3600.0) << file;
    }
  }
}

}  // namespace
}  // namespace lw::test
