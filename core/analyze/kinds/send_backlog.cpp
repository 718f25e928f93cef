// socket-send-backlog: data queued for peers that do not take it.
#include <fmt/format.h>

#include "analyze/finding_kinds.h"
#include "analyze/finding_text.h"
#include "util/units.h"

namespace lw {

std::optional<Finding> detect_send_backlog(const Subject& s) {
  const auto trend = trend_of(s, [](const Observation& o) { return o.send_queue_bytes; });
  const double min_rate = s.config.min_memory_growth_bytes_per_second;
  if (!grows(trend, min_rate, s.config.min_steadiness)) return std::nullopt;

  Finding f = make_finding(FindingKind::socket_send_backlog, s, trend->slope, trend->slope,
                           growth_confidence(*trend, min_rate, s));
  f.top_contributors = top_contributors(s.latest.endpoints, connections, send_queue, RankBy::queued_bytes);
  std::string what = fmt::format("Send queues grow {}/s", human_bytes(trend->slope));
  if (!f.top_contributors.empty()) {
    const auto& top = f.top_contributors.front();
    what += fmt::format(", most on {} to {} that hold {} the peer has not taken",
                        quantity(top.connections, "connection"), top.endpoint, human_bytes(top.queued_bytes));
  }
  describe(f, s, what, "Bound per-client send buffers and drop or disconnect slow consumers.");
  return f;
}

}  // namespace lw
