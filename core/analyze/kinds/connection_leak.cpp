// connection-leak: open TCP connections keep growing (and not because peers
// closed them: that is close-wait-leak).
#include <fmt/format.h>

#include "analyze/finding_kinds.h"
#include "analyze/finding_text.h"
#include "analyze/kinds/connection_trends.h"

namespace lw {
namespace {

// Connections that carry data follow demand: a pool filling up, the
// WebSockets of a morning's users (their pings are data). Leaked ones hold
// nothing, so most of the new connections must turn idle. Where idle time
// is unknown, the count alone decides.
bool idle_ones_pile_up(const Subject& s, const Trend& connections) {
  if (!s.latest.idle_connections) return true;
  const auto idle = trend_of(s, [](const Observation& o) { return o.idle_connections; });
  return idle && idle->slope >= connections.slope / 2;
}

}  // namespace

std::optional<Finding> detect_connection_leak(const Subject& s) {
  const ConnectionTrends c = connection_trends(s);
  if (!c.connections_grow || c.explained_by_close_wait || !idle_ones_pile_up(s, *c.connections)) return std::nullopt;
  const double min_rate = s.config.min_count_growth_per_second;
  Finding f = make_finding(FindingKind::connection_leak, s, c.connections->slope, queue_slope(s),
                           growth_confidence(*c.connections, min_rate, s));
  f.top_contributors = top_contributors(s.latest.endpoints, connections, queues, RankBy::count);
  describe(f, s,
           fmt::format("Open TCP connections grow by {} to {:.0f} now{}", per_minute(c.connections->slope),
                       s.latest.tcp_connections, leading_endpoint(f.top_contributors)),
           "Close connections when done; check connection pools and WebSocket cleanup.");
  return f;
}

}  // namespace lw
