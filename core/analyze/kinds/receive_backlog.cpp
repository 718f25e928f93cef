// socket-receive-backlog: data arrives faster than the process reads it, or
// its readers stopped reading (a stalled reader: see model/stream_positions.h).
#include <algorithm>

#include <fmt/format.h>

#include "analyze/finding_kinds.h"
#include "analyze/finding_text.h"
#include "analyze/kinds/stalls.h"
#include "util/units.h"

namespace lw {

std::optional<Finding> detect_receive_backlog(const Subject& s) {
  const auto trend = trend_of(s, [](const Observation& o) { return o.receive_queue_bytes; });
  const double min_rate = s.config.min_memory_growth_bytes_per_second;
  const bool growing = grows(trend, min_rate, s.config.min_steadiness);
  const EndpointGroup* stalled = most_stalled(s, kStalledReaders);
  if (!growing && !stalled) return std::nullopt;

  const double slope = trend ? trend->slope : 0;
  const double confidence = std::max(growing ? growth_confidence(*trend, min_rate, s) : 0,
                                     stalled ? stall_confidence(stalled->max_stalled_seconds, s.config) : 0);
  Finding f = make_finding(FindingKind::socket_receive_backlog, s, slope, slope, confidence);
  f.top_contributors = top_contributors(s.latest.endpoints, connections, receive_queue, RankBy::queued_bytes);

  std::string what = growing ? fmt::format("Receive queues grow {}/s", human_bytes(slope))
                             : fmt::format("{} sit unread", human_bytes(stalled->stalled_unread_bytes));
  if (stalled) {
    what += fmt::format(" on {} to {} that the process has not read from for {}",
                        quantity(stalled->stalled_sockets, "connection"), endpoint_label(*stalled),
                        human_duration(stalled->max_stalled_seconds));
  } else if (!f.top_contributors.empty()) {
    const auto& top = f.top_contributors.front();
    what += fmt::format(" on {} to {}", quantity(top.connections, "connection"), top.endpoint);
  }
  describe(f, s, what,
           stalled ? "Close abandoned streaming responses, or stop pooling connections to that endpoint."
                   : "Read as fast as data arrives, or make the sender slow down (flow control, smaller batches).");
  return f;
}

}  // namespace lw
