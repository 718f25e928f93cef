#include "analyze/kinds/connection_trends.h"

namespace lw {

ConnectionTrends connection_trends(const Subject& s) {
  ConnectionTrends c;
  c.close_wait_series = series_of(s.samples, [](const Observation& o) { return o.close_wait; });
  c.close_wait = fit_trend(c.close_wait_series);
  c.connections = trend_of(s, [](const Observation& o) { return o.tcp_connections; });
  c.connections_grow = count_grows(c.connections, s.config);
  c.explained_by_close_wait = c.connections_grow && c.close_wait && c.close_wait->slope >= c.connections->slope / 2;
  return c;
}

}  // namespace lw
