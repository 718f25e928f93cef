// close-wait-leak: peers closed their connections and the process never did.
#include <algorithm>

#include <fmt/format.h>

#include "analyze/finding_kinds.h"
#include "analyze/finding_text.h"
#include "analyze/kinds/connection_trends.h"

namespace lw {
namespace {

// CLOSE_WAIT sockets that never go away are a leak even when their number
// grows too slowly for a trend: at least this many, and not one closed over
// the whole window (the count never steps down).
bool close_wait_held(const Series& series) {
  constexpr double many = 10;
  if (series.y.empty() || series.y.back() < many) return false;
  return std::is_sorted(series.y.begin(), series.y.end());
}

}  // namespace

std::optional<Finding> detect_close_wait_leak(const Subject& s) {
  const ConnectionTrends c = connection_trends(s);
  const double min_rate = s.config.min_count_growth_per_second;
  const bool growing = count_grows(c.close_wait, s.config);
  const bool held = close_wait_held(c.close_wait_series);
  if (!growing && !held && !c.explained_by_close_wait) return std::nullopt;

  // A held count is certain but not urgent; it stays a warning.
  constexpr double held_confidence = 0.6;
  const double confidence = std::max(growing ? growth_confidence(*c.close_wait, min_rate, s) : 0,
                                     held || c.explained_by_close_wait ? held_confidence : 0);
  const double slope = c.close_wait ? c.close_wait->slope : 0;
  Finding f = make_finding(FindingKind::close_wait_leak, s, slope,
                           queue_slope(s) + (c.memory_with_them ? c.memory_with_them->slope : 0), confidence);
  f.top_contributors = top_contributors(s.latest.endpoints, close_waits, queues, RankBy::count);
  describe(f, s,
           fmt::format("{} sit in CLOSE_WAIT (growing by {}): the peers closed them, the process never did{}{}",
                       quantity(static_cast<uint64_t>(s.latest.close_wait), "connection"), per_minute(slope),
                       leading_endpoint(f.top_contributors), memory_with_connections(c)),
           "Call close() when a read returns EOF.");
  return f;
}

}  // namespace lw
