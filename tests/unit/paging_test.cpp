// Which findings page, and when: only warning or above, only once held for
// page_after, and every change of the paging set reported so an alert
// resolves as soon as its finding stops paging.
#include "analyze/paging.h"

#include <gtest/gtest.h>

namespace lw {
namespace {

ActiveFinding finding(pid_t pid, Severity severity, FindingKind kind = FindingKind::heap_growth) {
  ActiveFinding f;
  f.process = ProcessKey{pid, 1};
  f.comm = "worker";
  f.cgroup = "/pod/a";
  f.finding.kind = kind;
  f.finding.severity = severity;
  return f;
}

struct Round {
  std::vector<ActiveFinding> findings;
  std::vector<FindingChange> changes;
  size_t paging() const { return std::ranges::count_if(findings, &ActiveFinding::paging); }
};

Round round_at(PagingRule& rule, double now, std::vector<ActiveFinding> findings) {
  Round r{std::move(findings), {}};
  r.changes = rule.update(r.findings, now);
  return r;
}

TEST(PagingRule, InfoNeverPagesHoweverLong) {
  PagingRule rule(900);
  for (double t = 0; t <= 7200; t += 60) {
    const Round r = round_at(rule, t, {finding(10, Severity::info)});
    EXPECT_EQ(r.paging(), 0u) << "at " << t << " s";
    EXPECT_TRUE(r.changes.empty());
  }
}

TEST(PagingRule, WarningPagesOnceHeldForPageAfter) {
  PagingRule rule(900);
  EXPECT_EQ(round_at(rule, 0, {finding(10, Severity::warning)}).paging(), 0u);
  EXPECT_EQ(round_at(rule, 899, {finding(10, Severity::warning)}).paging(), 0u);
  const Round at_900 = round_at(rule, 900, {finding(10, Severity::warning)});
  EXPECT_EQ(at_900.paging(), 1u);
  ASSERT_EQ(at_900.changes.size(), 1u);
  EXPECT_TRUE(at_900.changes[0].started);
  EXPECT_EQ(at_900.changes[0].finding.process->pid, 10);
  // Still paging: nothing changed.
  const Round later = round_at(rule, 960, {finding(10, Severity::warning)});
  EXPECT_EQ(later.paging(), 1u);
  EXPECT_TRUE(later.changes.empty());
}

TEST(PagingRule, ZeroPagesAtOnce) {
  PagingRule rule(0);
  EXPECT_EQ(round_at(rule, 0, {finding(10, Severity::critical)}).paging(), 1u);
  EXPECT_EQ(round_at(rule, 0, {finding(11, Severity::info)}).paging(), 0u);
}

TEST(PagingRule, FallingToInfoEndsThePageAndStartsTheClockAgain) {
  PagingRule rule(300);
  round_at(rule, 0, {finding(10, Severity::warning)});
  ASSERT_EQ(round_at(rule, 300, {finding(10, Severity::warning)}).paging(), 1u);
  const Round fell = round_at(rule, 360, {finding(10, Severity::info)});
  EXPECT_EQ(fell.paging(), 0u);
  ASSERT_EQ(fell.changes.size(), 1u);
  EXPECT_FALSE(fell.changes[0].started);
  EXPECT_EQ(fell.changes[0].finding.finding.severity, Severity::warning) << "resolved as it paged";
  // Back at warning: it must hold again from here.
  EXPECT_EQ(round_at(rule, 420, {finding(10, Severity::warning)}).paging(), 0u);
  EXPECT_EQ(round_at(rule, 719, {finding(10, Severity::warning)}).paging(), 0u);
  EXPECT_EQ(round_at(rule, 720, {finding(10, Severity::warning)}).paging(), 1u);
}

// The alert's labels carry the severity: the old alert is resolved and the
// new one starts in the same round, without waiting again.
TEST(PagingRule, ASeverityChangeReplacesTheAlertAndKeepsTheTimeHeld) {
  PagingRule rule(300);
  round_at(rule, 0, {finding(10, Severity::warning)});
  const Round escalated_early = round_at(rule, 200, {finding(10, Severity::critical)});
  EXPECT_EQ(escalated_early.paging(), 0u) << "held 200 of 300 s, at warning then critical";
  EXPECT_TRUE(escalated_early.changes.empty());
  ASSERT_EQ(round_at(rule, 300, {finding(10, Severity::critical)}).paging(), 1u);

  const Round calmer = round_at(rule, 360, {finding(10, Severity::warning)});
  EXPECT_EQ(calmer.paging(), 1u);
  ASSERT_EQ(calmer.changes.size(), 2u);
  EXPECT_FALSE(calmer.changes[0].started);
  EXPECT_EQ(calmer.changes[0].finding.finding.severity, Severity::critical);
  EXPECT_TRUE(calmer.changes[1].started);
  EXPECT_EQ(calmer.changes[1].finding.finding.severity, Severity::warning);
}

TEST(PagingRule, AFindingThatEndsWhilePagingIsResolvedAndOthersAreKept) {
  PagingRule rule(60);
  round_at(rule, 0, {finding(10, Severity::warning), finding(11, Severity::critical)});
  ASSERT_EQ(round_at(rule, 60, {finding(10, Severity::warning), finding(11, Severity::critical)}).paging(), 2u);
  const Round one_left = round_at(rule, 65, {finding(11, Severity::critical)});
  EXPECT_EQ(one_left.paging(), 1u);
  ASSERT_EQ(one_left.changes.size(), 1u);
  EXPECT_FALSE(one_left.changes[0].started);
  EXPECT_EQ(one_left.changes[0].finding.process->pid, 10);
}

// Two kinds about one process are two findings, each with its own clock.
TEST(PagingRule, EachKindOfEachSubjectHoldsOnItsOwn) {
  PagingRule rule(60);
  round_at(rule, 0, {finding(10, Severity::warning, FindingKind::heap_growth)});
  const Round r = round_at(rule, 60,
                           {finding(10, Severity::warning, FindingKind::heap_growth),
                            finding(10, Severity::warning, FindingKind::connection_leak)});
  ASSERT_EQ(r.paging(), 1u);
  EXPECT_TRUE(r.findings[0].paging);
  EXPECT_FALSE(r.findings[1].paging);
}

}  // namespace
}  // namespace lw
