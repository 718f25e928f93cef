// What waits to be posted to the Alertmanager, between the sampling thread
// (which offers the state of every round) and the sender thread (which
// posts it). Pure: no threads, no clock, no network; unit-tested.
//
// Every round re-posts all active findings, so only the latest active set
// matters: a newer one replaces one not yet posted ("superseded"). A finding
// that ended is different: its one "resolved" post is what ends the alert at
// once, so resolutions are kept, in order, until posted; only beyond
// `max_resolved` of them is the oldest dropped, and counted ("queue_full").
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "analyze/leak_detector.h"

namespace lw {

struct ResolvedFinding {
  ActiveFinding finding;
  std::chrono::system_clock::time_point ended_at;  // the alert's endsAt
};

// One post's worth: resolutions first, then the active set.
struct AlertBatch {
  std::vector<ResolvedFinding> resolved;
  std::optional<std::vector<ActiveFinding>> active;  // nullopt: no new active set in this batch
  bool has_alerts() const { return !resolved.empty() || (active && !active->empty()); }
};

// Payloads that will never be posted, by why.
struct AlertDrops {
  uint64_t superseded = 0;  // an active set replaced by a newer one before it was posted
  uint64_t queue_full = 0;  // resolutions dropped beyond max_resolved (oldest first)
};

class AlertQueue {
 public:
  explicit AlertQueue(size_t max_resolved = 1024) : max_resolved_(max_resolved) {}

  // The state of one round: what is active now and what started or ended
  // (an ended finding becomes a resolution at `now`; a started one is in
  // `active` already). Returns what this dropped.
  AlertDrops offer(std::vector<ActiveFinding> active, const std::vector<FindingChange>& changes,
                   std::chrono::system_clock::time_point now);
  // Everything pending, leaving the queue empty.
  AlertBatch take();
  // A batch whose post failed goes back to be retried: its resolutions
  // before any that came since, its active set only if no newer one came.
  AlertDrops give_back(AlertBatch batch);

  bool has_pending() const { return active_.has_value() || !resolved_.empty(); }
  size_t resolved_pending() const { return resolved_.size(); }

 private:
  AlertDrops trim();

  size_t max_resolved_;
  std::optional<std::vector<ActiveFinding>> active_;
  std::deque<ResolvedFinding> resolved_;
};

// Waits between failed posts: initial, doubled after every failure up to
// max, back to initial after a success.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) : initial_(initial), max_(max) {}
  // How long to wait after one more failure.
  std::chrono::milliseconds after_failure();
  void reset() { failures_ = 0; }

 private:
  std::chrono::milliseconds initial_, max_;
  int failures_ = 0;
};

}  // namespace lw
