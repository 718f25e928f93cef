// socket-send-backlog: data queued for peers that do not take it, or peers
// that stopped taking it (a stalled peer: see model/stream_positions.h),
// with what the process keeps in its own memory for them meanwhile.
#include <fmt/format.h>

#include "analyze/finding_kinds.h"
#include "analyze/finding_text.h"
#include "analyze/kinds/stalls.h"
#include "util/units.h"

namespace lw {

std::optional<Finding> detect_send_backlog(const Subject& s) {
  const auto trend = trend_of(s, [](const Observation& o) { return o.send_queue_bytes; });
  const double min_rate = s.config.min_memory_growth_bytes_per_second;
  const bool growing = grows(trend, min_rate, s.config.min_steadiness);
  const EndpointGroup* stalled = most_stalled(s, kStalledPeers);
  if (!growing && !stalled) return std::nullopt;

  // Once the kernel's queue to a stalled peer is full, a server that keeps
  // what it owes the peer (a broker's per-subscriber queue, a WebSocket
  // server's output buffer) grows in its own memory: that growth is the
  // peer's, not a heap leak.
  const auto buffered = stalled ? buffered_for(s, *stalled) : std::nullopt;
  const double slope = (growing ? trend->slope : 0) + (buffered ? buffered->slope : 0);
  const double confidence = std::max(growing ? growth_confidence(*trend, min_rate, s) : 0,
                                     stalled ? stall_confidence(stalled->max_peer_stalled_seconds, s.config) : 0);
  Finding f = make_finding(FindingKind::socket_send_backlog, s, slope, slope, confidence);
  f.top_contributors = top_contributors(s.latest.endpoints, connections, send_queue, RankBy::queued_bytes);

  std::string what = growing ? fmt::format("Send queues grow {}/s", human_bytes(trend->slope))
                             : fmt::format("{} wait to be sent", human_bytes(stalled->stalled_peer_bytes));
  if (stalled) {
    what +=
        fmt::format(" on {} to {} whose peer has taken nothing for {}", quantity(stalled->stalled_peers, "connection"),
                    endpoint_label(*stalled), human_duration(stalled->max_peer_stalled_seconds));
    if (buffered) {
      what += fmt::format(", and the process's own memory grows {}/s meanwhile: it keeps what that peer does not take",
                          human_bytes(buffered->slope));
    }
  } else if (!f.top_contributors.empty()) {
    const auto& top = f.top_contributors.front();
    what += fmt::format(", most on {} to {} that hold {} the peer has not taken",
                        quantity(top.connections, "connection"), top.endpoint, human_bytes(top.queued_bytes));
  }
  describe(f, s, what,
           stalled ? "Bound what is kept per peer and disconnect consumers that stop reading (a send timeout, a "
                     "per-subscriber queue limit)."
                   : "Bound per-client send buffers and drop or disconnect slow consumers.");
  return f;
}

}  // namespace lw
