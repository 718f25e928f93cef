#include "leakwatch/leak_detector.h"

#include <algorithm>
#include <set>

#include "leakwatch/observation.h"

namespace lw {
namespace {

using FindingKey = std::pair<ProcessKey, FindingKind>;

FindingKey key_of(const ActiveFinding& f) { return {f.process, f.finding.kind}; }

}  // namespace

void LeakDetector::update(const NodeSample& sample, double now) {
  std::map<FindingKey, ActiveFinding> previous;
  for (auto& f : active_) previous.emplace(key_of(f), std::move(f));
  std::vector<ActiveFinding> current;
  std::set<ProcessKey> alive;

  for (const auto& p : sample.processes) {
    alive.insert(p.key);
    const auto cgroup = sample.cgroups.find(p.cgroup);
    auto& window = windows_.try_emplace(p.key, config_).first->second;
    window.add(observe_process(p, cgroup == sample.cgroups.end() ? nullptr : &cgroup->second, now));
    for (auto& finding : window.findings()) {
      ActiveFinding f{p.key, p.comm, p.cgroup, std::move(finding), now};
      if (const auto it = previous.find(key_of(f)); it != previous.end()) {
        f.since = it->second.since;
        previous.erase(it);
      } else {
        changes_.push_back({true, f});
      }
      current.push_back(std::move(f));
    }
  }
  // Whatever was active and is not now has ended, including findings of
  // processes that exited.
  for (auto& [key, f] : previous) changes_.push_back({false, std::move(f)});
  std::erase_if(windows_, [&](const auto& entry) { return !alive.contains(entry.first); });
  std::stable_sort(current.begin(), current.end(), [](const ActiveFinding& a, const ActiveFinding& b) {
    return a.finding.severity > b.finding.severity;
  });
  active_ = std::move(current);
}

}  // namespace lw
