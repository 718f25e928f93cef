// heap-growth: anonymous memory grows and the sockets do not explain it;
// or, on a cgroup, each of its recycled workers grew until it was replaced.
#include <fmt/format.h>

#include "analyze/finding_kinds.h"
#include "analyze/finding_text.h"
#include "analyze/kinds/connection_trends.h"
#include "analyze/kinds/stalls.h"
#include "analyze/statistics.h"
#include "util/units.h"

namespace lw {
namespace {

// A leak that recycling workers hides (gunicorn --max-requests, PHP-FPM
// pm.max_requests, uWSGI max-requests): each worker grows until it is
// replaced, so the cgroup's memory stays bounded and its own trend flat.
// What survives the restarts is the workers' lives: the last few, each of
// which grew as a leak grows, name it.
std::optional<Finding> leak_across_restarts(const Subject& s) {
  constexpr size_t min_workers = 3, sure_workers = 4;
  const double min_rate = s.config.min_memory_growth_bytes_per_second;
  std::vector<double> slopes, steadiness, lives;
  for (auto life = s.workers.rbegin(); life != s.workers.rend(); ++life) {
    if (life->samples < s.config.min_samples || !grows(life->anon, min_rate, s.config.min_steadiness)) break;
    slopes.push_back(life->anon->slope);
    steadiness.push_back(life->anon->steadiness);
    lives.push_back(life->lived_seconds);
  }
  if (slopes.size() < min_workers) return std::nullopt;
  const double workers = static_cast<double>(slopes.size());
  const double slope = median(slopes);
  Finding f =
      make_finding(FindingKind::heap_growth, s, slope, 0, median(steadiness) * std::min(1.0, workers / sure_workers));
  f.across_restarts = true;
  describe(f, s,
           fmt::format("Each of its last {} workers grew {}/s until it was replaced after about {}: restarts bound "
                       "the memory and hide a leak",
                       slopes.size(), human_bytes(slope), rough_duration(median(lives))),
           "Find the leak in one worker with a heap profiler (or leakwatch inspect --watch on it); recycling "
           "workers only hides it.");
  return f;
}

}  // namespace

std::optional<Finding> detect_heap_growth(const Subject& s) {
  const auto anon = trend_of(s, [](const Observation& o) { return o.resident.anon; });
  const double min_rate = s.config.min_memory_growth_bytes_per_second;
  if (!grows(anon, min_rate, s.config.min_steadiness)) return leak_across_restarts(s);
  // Growth since a peer stalled is kept for that peer: socket-send-backlog
  // names it.
  if (const EndpointGroup* peer = most_stalled(s, kStalledPeers); peer && buffered_for(s, *peer)) return std::nullopt;
  // Growth that leaked connections hold is theirs: connection-leak or
  // close-wait-leak names it.
  if (connection_trends(s).memory_with_them) return std::nullopt;
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
