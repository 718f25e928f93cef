#include "alert_queue.h"

#include <algorithm>

namespace lw {

AlertDrops AlertQueue::offer(std::vector<ActiveFinding> active, const std::vector<FindingChange>& changes,
                             std::chrono::system_clock::time_point now) {
  const bool superseding = active_.has_value();
  active_ = std::move(active);
  for (const auto& change : changes) {
    if (!change.started) resolved_.push_back({change.finding, now});
  }
  AlertDrops drops = trim();
  drops.superseded = superseding ? 1 : 0;
  return drops;
}

AlertBatch AlertQueue::take() {
  AlertBatch batch;
  batch.resolved.assign(std::make_move_iterator(resolved_.begin()), std::make_move_iterator(resolved_.end()));
  resolved_.clear();
  batch.active = std::exchange(active_, std::nullopt);
  return batch;
}

AlertDrops AlertQueue::give_back(AlertBatch batch) {
  resolved_.insert(resolved_.begin(), std::make_move_iterator(batch.resolved.begin()),
                   std::make_move_iterator(batch.resolved.end()));
  AlertDrops drops = trim();
  if (batch.active) {
    if (active_) {
      drops.superseded = 1;
    } else {
      active_ = std::move(batch.active);
    }
  }
  return drops;
}

AlertDrops AlertQueue::trim() {
  AlertDrops drops;
  while (resolved_.size() > max_resolved_) {
    resolved_.pop_front();
    drops.queue_full++;
  }
  return drops;
}

std::chrono::milliseconds Backoff::after_failure() {
  auto wait = initial_;
  for (int i = 0; i < failures_ && wait < max_; ++i) wait *= 2;
  failures_ = std::min(failures_ + 1, 62);
  return std::min(wait, max_);
}

}  // namespace lw
