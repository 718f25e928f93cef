// heap-growth: anonymous memory grows and the sockets do not explain it.
#include <fmt/format.h>

#include "analyze/finding_kinds.h"
#include "analyze/finding_text.h"
#include "analyze/kinds/stalls.h"
#include "util/units.h"

namespace lw {

std::optional<Finding> detect_heap_growth(const Subject& s) {
  const auto anon = trend_of(s, [](const Observation& o) { return o.resident.anon; });
  const double min_rate = s.config.min_memory_growth_bytes_per_second;
  if (!grows(anon, min_rate, s.config.min_steadiness)) return std::nullopt;
  // Growth since a peer stalled is kept for that peer: socket-send-backlog
  // names it.
  if (const EndpointGroup* peer = most_stalled(s, kStalledPeers); peer && buffered_for(s, *peer)) return std::nullopt;
  // Heap growth is the verdict only when sockets do not explain it.
  constexpr double most = 0.5, small_next_to_anon = 0.25;
  Finding f =
      make_finding(FindingKind::heap_growth, s, anon->slope, anon->slope, growth_confidence(*anon, min_rate, s));
  if (f.share_of_growth < most || queue_slope(s) >= small_next_to_anon * anon->slope) return std::nullopt;
  describe(f, s,
           fmt::format("Anonymous memory grows {}/s ({:.0f}% of the footprint's growth) while socket queues stay flat",
                       human_bytes(anon->slope), 100 * f.share_of_growth),
           "Look for unbounded caches or dicts with a heap profiler; sockets are not the cause.");
  return f;
}

}  // namespace lw
