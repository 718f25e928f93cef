#include "analyze/kinds/connection_trends.h"

namespace lw {

ConnectionTrends connection_trends(const Subject& s) {
  ConnectionTrends c;
  const auto close_wait = [](const Observation& o) -> std::optional<double> { return o.close_wait; };
  c.close_wait_series = series_of(s.samples, close_wait);
  c.close_wait = fit_trend(c.close_wait_series, earlier_peak(s, close_wait));
  c.connections = trend_of(s, [](const Observation& o) { return o.tcp_connections; });
  c.connections_grow = count_grows(c.connections, s.config);
  c.explained_by_close_wait = c.connections_grow && c.close_wait && c.close_wait->slope >= c.connections->slope / 2;
  return c;
}

}  // namespace lw
