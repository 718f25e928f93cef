#include "analyze/kinds/connection_trends.h"

#include <fmt/format.h>

#include "util/units.h"

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

// What a server keeps per connection: a session, read and write buffers,
// TLS state (OpenSSL holds about 50 KiB a connection). Heap growth beyond
// this per new leaked connection is more than the connections hold: a leak
// of its own, reported as heap-growth.
constexpr double kMaxMemoryPerConnection = 256 * 1024;

}  // namespace

ConnectionTrends connection_trends(const Subject& s) {
  ConnectionTrends c;
  const auto close_wait = [](const Observation& o) -> std::optional<double> { return o.close_wait; };
  c.close_wait_series = series_of(s.samples, close_wait);
  c.close_wait = fit_trend(c.close_wait_series, earlier_peak(s, close_wait));
  c.connections = trend_of(s, [](const Observation& o) { return o.tcp_connections; });
  c.connections_grow = count_grows(c.connections, s.config);
  c.explained_by_close_wait = c.connections_grow && c.close_wait && c.close_wait->slope >= c.connections->slope / 2;
  c.leaked = c.connections_grow && (c.explained_by_close_wait || idle_ones_pile_up(s, *c.connections));
  if (c.leaked) {
    const auto anon = trend_of(s, [](const Observation& o) { return o.resident.anon; });
    if (grows(anon, s.config.min_memory_growth_bytes_per_second, s.config.min_steadiness) &&
        anon->slope <= kMaxMemoryPerConnection * c.connections->slope) {
      c.memory_with_them = anon;
    }
  }
  return c;
}

std::string memory_with_connections(const ConnectionTrends& c) {
  if (!c.memory_with_them) return "";
  return fmt::format(", and the process's memory grows {}/s with them ({} each)",
                     human_bytes(c.memory_with_them->slope),
                     human_bytes(c.memory_with_them->slope / c.connections->slope));
}

}  // namespace lw
