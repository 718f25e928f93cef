// The analysis over minutes, hours and a day: slow leaks named on the
// windows long enough to show them, windows thinned to a bounded size
// without losing a slice's level, cycles and demand told from leaks.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "analyze/subject_window.h"

namespace lw::test {
namespace {

constexpr double KiB = 1024;
constexpr double MiB = 1024 * KiB;
constexpr double minute = 60;
constexpr double hour = 3600;

// A steady service: 200 MiB of heap with 1% of deterministic wobble, 20
// busy connections.
Observation steady(double t) {
  Observation o;
  o.time = t;
  o.resident = {.anon = 200 * MiB * (1 + 0.01 * std::sin(t * 7.3)), .file = 30 * MiB, .shmem = 0, .total = {}};
  o.tcp_connections = 20;
  o.idle_connections = 0;
  o.socket_fds = 20;
  o.open_fds = 40;
  return o;
}

using Shape = std::function<void(Observation&, double)>;

// Feeds `shape` every `interval` up to `until`; calls `seen` with each
// round's findings from `from` on.
void run(SubjectWindow& window, const Shape& shape, double interval, double until, double from,
         const std::function<void(double, const std::vector<Finding>&)>& seen) {
  for (double t = 0; t <= until; t += interval) {
    Observation o = steady(t);
    shape(o, t);
    window.add(o);
    if (t >= from) seen(t, window.findings());
  }
}

bool has(const std::vector<Finding>& found, FindingKind kind) {
  return std::any_of(found.begin(), found.end(), [kind](const Finding& f) { return f.kind == kind; });
}

AnalysisConfig agent_at_60s() {
  AnalysisConfig config;
  config.window_seconds = 6 * minute;  // 5 minutes widened to hold 6 samples
  return config;
}

// 25 KiB/s (2 GiB a day) is under the 5-minute window's 64 KiB/s floor.
TEST(TimeScales, ASlowLeakIsNamedOnTheHourWindow) {
  const Shape leak = [](Observation& o, double t) { o.resident.anon = *o.resident.anon + 25 * KiB * t; };
  AnalysisConfig only_minutes = agent_at_60s();
  only_minutes.longer_windows_seconds = {};
  SubjectWindow short_only(only_minutes), all_scales(agent_at_60s());
  size_t short_rounds = 0;
  run(short_only, leak, 60, hour, 0, [&](double, const auto& found) { short_rounds += found.empty() ? 0 : 1; });
  EXPECT_EQ(short_rounds, 0u) << "the minutes window alone cannot see it";

  std::optional<double> named_at;
  Finding last;
  run(all_scales, leak, 60, hour, 0, [&](double t, const auto& found) {
    if (!has(found, FindingKind::heap_growth)) return;
    if (!named_at) named_at = t;
    last = found.front();
  });
  ASSERT_TRUE(named_at) << "never named";
  EXPECT_LT(*named_at, 30 * minute);
  EXPECT_EQ(last.kind, FindingKind::heap_growth);
  EXPECT_GT(last.window_seconds, 30 * minute) << "from the hour window";
  EXPECT_NEAR(last.growth_per_second, 25 * KiB, 2 * KiB);
  EXPECT_NE(last.explanation.find("over the last"), std::string::npos) << last.explanation;
}

// A day at a 1 s interval: 86,400 samples, a bounded number kept.
TEST(TimeScales, WindowsStayBoundedWhateverTheirSpanAndInterval) {
  SubjectWindow window{AnalysisConfig{}};
  const double until = 25 * hour;
  size_t added = 0;
  for (double t = 0; t <= until; t += 1) {
    window.add(steady(t));
    ++added;
  }
  EXPECT_EQ(window.samples(), added);
  EXPECT_LE(window.points(), 3 * (SubjectWindow::kPointsPerWindow + 2));
  EXPECT_DOUBLE_EQ(window.span_seconds(), until);
}

// At a 1 s interval the shortest window still judges after 6 samples.
TEST(TimeScales, TheShortestWindowIsDenseWhileItFills) {
  SubjectWindow window{AnalysisConfig{}};
  for (double t = 0; t < 6; t += 1) {
    Observation o = steady(t);
    o.resident.anon = 200 * MiB + 5 * MiB * t;
    window.add(o);
  }
  EXPECT_TRUE(has(window.findings(), FindingKind::heap_growth));
}

TEST(TimeScales, ACombinedSampleTakesTheLaterEndpointsAndWhatOneSideKnows) {
  Observation a = steady(0), b = steady(30);
  a.resident.anon = 100;
  b.resident.anon = 400;
  a.open_fds = std::nullopt;
  b.open_fds = 50;
  a.idle_connections = 4;
  b.idle_connections = std::nullopt;
  b.endpoints = {EndpointGroup{.peer = "10.0.0.7:80"}};
  const Observation m = combine_samples(a, b, [](double x, double y) { return (2 * x + y) / 3; });
  EXPECT_DOUBLE_EQ(m.time, 10);
  EXPECT_DOUBLE_EQ(*m.resident.anon, 200);
  EXPECT_DOUBLE_EQ(*combine_samples(a, b, [](double x, double y) { return std::max(x, y); }).resident.anon, 400);
  EXPECT_EQ(m.open_fds, 50) << "a value one side does not know is the other's";
  EXPECT_EQ(m.idle_connections, 4);
  ASSERT_EQ(m.endpoints.size(), 1u);
  EXPECT_EQ(m.endpoints[0].peer, "10.0.0.7:80");
}

// A GC sawtooth: +200 KiB/s for 40 minutes, then back down. Its first
// climb cannot be told from a leak; every later one only regains a level
// already held. The same sawtooth on a rising baseline passes its earlier
// peaks and is a leak.
TEST(TimeScales, GrowthThatOnlyRegainsAnEarlierLevelIsNotALeak) {
  const auto sawtooth = [](double baseline_per_second) -> Shape {
    return [baseline_per_second](Observation& o, double t) {
      o.resident.anon = *o.resident.anon + 200 * KiB * std::fmod(t, 40 * minute) + baseline_per_second * t;
    };
  };
  SubjectWindow cycle{AnalysisConfig{}}, rising{AnalysisConfig{}};
  size_t cycle_rounds = 0, rising_rounds = 0;
  run(cycle, sawtooth(0), 15, 4 * hour, 45 * minute,
      [&](double, const auto& found) { cycle_rounds += has(found, FindingKind::heap_growth) ? 1 : 0; });
  run(rising, sawtooth(100 * KiB), 15, 4 * hour, 45 * minute,
      [&](double, const auto& found) { rising_rounds += has(found, FindingKind::heap_growth) ? 1 : 0; });
  EXPECT_EQ(cycle_rounds, 0u);
  EXPECT_GT(rising_rounds, 100u);
}

// Connections that carry data follow demand; connections that pile up idle
// are a leak; where idle time is unknown, the count alone decides.
TEST(TimeScales, ConnectionsThatPileUpIdleAreALeakBusyOnesAreNot) {
  const auto growing = [](std::function<std::optional<double>(double)> idle) -> Shape {
    return [idle](Observation& o, double t) {
      o.tcp_connections = 20 + std::floor(t / 5);
      o.socket_fds = o.tcp_connections;
      o.idle_connections = idle(t);
    };
  };
  const auto leak_after = [](double from, const Shape& shape) {
    SubjectWindow window{AnalysisConfig{}};
    bool named = false;
    run(window, shape, 15, 30 * minute, from,
        [&](double, const auto& found) { named = named || has(found, FindingKind::connection_leak); });
    return named;
  };
  EXPECT_FALSE(leak_after(0, growing([](double) { return 0.0; }))) << "busy: demand";
  EXPECT_TRUE(leak_after(0, growing([](double t) { return std::max(0.0, std::floor((t - 60) / 5)); })));
  EXPECT_TRUE(leak_after(0, growing([](double) { return std::nullopt; })));
}

TEST(TimeScales, LongerWindowsLowerTheFloorsDownToTheSlowest) {
  const AnalysisConfig base;
  EXPECT_EQ(window_spans(base), (std::vector<double>{300, 3600, 86400}));
  AnalysisConfig long_shortest;
  long_shortest.window_seconds = 7200;
  EXPECT_EQ(window_spans(long_shortest), (std::vector<double>{7200, 86400}));

  EXPECT_DOUBLE_EQ(thresholds_for(base, 100).min_memory_growth_bytes_per_second, 64 * KiB);
  EXPECT_DOUBLE_EQ(thresholds_for(base, 600).min_memory_growth_bytes_per_second, 32 * KiB);
  EXPECT_DOUBLE_EQ(thresholds_for(base, 600).min_count_growth_per_second, 0.025);
  EXPECT_DOUBLE_EQ(thresholds_for(base, hour).min_memory_growth_bytes_per_second, 16 * KiB);
  EXPECT_DOUBLE_EQ(thresholds_for(base, hour).min_count_growth_per_second, 1.0 / 120);
}

}  // namespace
}  // namespace lw::test
