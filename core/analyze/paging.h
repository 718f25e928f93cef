// Which active findings should wake someone. A finding of severity `info`
// is for dashboards; at `warning` or above it pages once it has stayed
// there for `page_after`: the analysis names a leak after a few rounds,
// while a pool filling or a cache warming also grows for minutes, and a
// page that resolves on its own before anyone looks is noise.
//
// The same rule serves both alert paths (the exported
// `leakwatch_leak_paging` that the shipped Prometheus rule fires on, and
// the agent's own posts to Alertmanager), so the time is configured once,
// in the agent (`--page-after`).
#pragma once

#include <map>
#include <vector>

#include "analyze/leak_detector.h"

namespace lw {

class PagingRule {
 public:
  explicit PagingRule(double page_after_seconds) : page_after_(page_after_seconds) {}

  // Marks each of this round's active findings `paging` or not, and returns
  // how the set of paging findings changed since the last round: a finding
  // that begins to page has started; one that stops (it ended, fell to
  // info, or changed severity, which changes its alert's labels) has ended,
  // as it was when it paged. A change between warning and critical keeps
  // the time already held: the new severity pages at once.
  std::vector<FindingChange> update(std::vector<ActiveFinding>& active, double now);

 private:
  double page_after_;
  std::map<FindingKey, double> serious_since_;  // at warning or above since, without a break
  std::map<FindingKey, ActiveFinding> paging_;  // as last reported paging
};

}  // namespace lw
