#include "analyze/kinds/stalls.h"

#include <algorithm>

namespace lw {

const EndpointGroup* most_stalled(const Subject& s, const StallFields& stall) {
  const EndpointGroup* worst = nullptr;
  for (const auto& e : s.latest.endpoints) {
    if (e.*stall.sockets == 0 || static_cast<double>(e.*stall.bytes) < s.config.min_stalled_bytes) continue;
    if (!worst || e.*stall.bytes > worst->*stall.bytes) worst = &e;
  }
  return worst;
}

double stall_confidence(double stalled_seconds, const AnalysisConfig& config) {
  return 0.5 + 0.5 * std::min(1.0, stalled_seconds / (4 * config.stall_after_seconds));
}

std::optional<Trend> buffered_for(const Subject& s, const EndpointGroup& peer) {
  const double since = s.latest.time - peer.max_peer_stalled_seconds;
  Series anon;
  for (const auto& o : s.samples) {
    if (o.time < since || !o.resident.anon) continue;
    anon.t.push_back(o.time);
    anon.y.push_back(*o.resident.anon);
  }
  auto trend = fit_trend(anon);
  if (!grows(trend, s.config.min_memory_growth_bytes_per_second, s.config.min_steadiness)) return std::nullopt;
  return trend;
}

}  // namespace lw
