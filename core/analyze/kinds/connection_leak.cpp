// connection-leak: open TCP connections keep growing (and not because peers
// closed them: that is close-wait-leak).
#include <fmt/format.h>

#include "analyze/finding_kinds.h"
#include "analyze/finding_text.h"
#include "analyze/kinds/connection_trends.h"

namespace lw {

std::optional<Finding> detect_connection_leak(const Subject& s) {
  const ConnectionTrends c = connection_trends(s);
  if (!c.leaked || c.explained_by_close_wait) return std::nullopt;
  const double min_rate = s.config.min_count_growth_per_second;
  Finding f = make_finding(FindingKind::connection_leak, s, c.connections->slope,
                           queue_slope(s) + (c.memory_with_them ? c.memory_with_them->slope : 0),
                           growth_confidence(*c.connections, min_rate, s));
  f.top_contributors = top_contributors(s.latest.endpoints, connections, queues, RankBy::count);
  describe(f, s,
           fmt::format("Open TCP connections grow by {} to {:.0f} now{}{}", per_minute(c.connections->slope),
                       s.latest.tcp_connections, leading_endpoint(f.top_contributors), memory_with_connections(c)),
           "Close connections when done; check connection pools and WebSocket cleanup.");
  return f;
}

}  // namespace lw
