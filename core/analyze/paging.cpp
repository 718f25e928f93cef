#include "analyze/paging.h"

#include <utility>

namespace lw {

std::vector<FindingChange> PagingRule::update(std::vector<ActiveFinding>& active, double now) {
  std::map<FindingKey, double> serious_since;
  std::map<FindingKey, ActiveFinding> paging;
  for (auto& f : active) {
    f.paging = false;
    if (f.finding.severity < Severity::warning) continue;
    const FindingKey key = key_of(f);
    const auto held = serious_since_.find(key);
    const double since = held == serious_since_.end() ? now : held->second;
    serious_since.emplace(key, since);
    if (now - since >= page_after_) {
      f.paging = true;
      paging.emplace(key, f);
    }
  }

  std::vector<FindingChange> changes;
  for (auto& [key, before] : paging_) {
    const auto now_paging = paging.find(key);
    if (now_paging == paging.end() || now_paging->second.finding.severity != before.finding.severity) {
      changes.push_back({false, std::move(before)});
    }
  }
  for (const auto& [key, f] : paging) {
    const auto before = paging_.find(key);
    if (before == paging_.end() || before->second.finding.severity != f.finding.severity) {
      changes.push_back({true, f});
    }
  }
  serious_since_ = std::move(serious_since);
  paging_ = std::move(paging);
  return changes;
}

}  // namespace lw
