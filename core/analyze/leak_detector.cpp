#include "analyze/leak_detector.h"

#include <algorithm>
#include <set>
#include <utility>

#include "model/observation.h"

namespace lw {
namespace {

// Endpoints kept per cgroup observation, as per process by default.
constexpr size_t kCgroupEndpoints = 5;

}  // namespace

FindingKey key_of(const ActiveFinding& f) { return {f.process, f.cgroup, f.finding.kind}; }

std::vector<ActiveFinding> LeakDetector::process_findings(const NodeSample& sample, double now) {
  std::vector<ActiveFinding> found;
  std::set<ProcessKey> alive;
  for (const auto& p : sample.processes) {
    alive.insert(p.key);
    const auto cgroup = sample.cgroups.find(p.cgroup);
    auto& tracked = windows_.try_emplace(p.key, ProcessWindow{SubjectWindow(config_), p.cgroup}).first->second;
    tracked.window.add(observe_process(p, cgroup == sample.cgroups.end() ? nullptr : &cgroup->second, now));
    for (auto& finding : tracked.window.findings()) {
      found.push_back({p.key, p.comm, p.cgroup, p.pod, std::move(finding), now});
    }
  }
  std::erase_if(windows_, [&](const auto& entry) {
    if (alive.contains(entry.first)) return false;
    const auto cgroup = cgroup_windows_.find(entry.second.cgroup);
    if (cgroup != cgroup_windows_.end()) cgroup->second.worker_exited(entry.second.window.life());
    return true;
  });
  return found;
}

// A cgroup finding of a kind some process of the cgroup reports, now or in
// the last round, would say the same thing twice (or, when that process has
// just exited, flap for a round while the window still holds its growth);
// only what no process explains is kept. A leak across restarts says what
// no worker can, and is kept.
std::vector<ActiveFinding> LeakDetector::cgroup_findings(const NodeSample& sample, double now,
                                                         const std::vector<ActiveFinding>& by_process) {
  std::map<std::string, std::vector<const ProcessSample*>> members;
  for (const auto& p : sample.processes) {
    if (!p.cgroup.empty()) members[p.cgroup].push_back(&p);
  }
  std::set<std::pair<std::string, FindingKind>> explained;
  for (const std::vector<ActiveFinding>* findings : {&by_process, &std::as_const(active_)}) {
    for (const auto& f : *findings) {
      if (f.process) explained.emplace(f.cgroup, f.finding.kind);
    }
  }

  std::vector<ActiveFinding> found;
  for (const auto& [path, processes] : members) {
    const CgroupSample& cgroup = sample.cgroups.at(path);
    auto& window = cgroup_windows_.try_emplace(path, config_).first->second;
    window.add(observe_cgroup(cgroup, processes, now, kCgroupEndpoints));
    for (auto& finding : window.findings()) {
      if (explained.contains({path, finding.kind}) && !finding.across_restarts) continue;
      found.push_back({std::nullopt, "", path, cgroup.pod, std::move(finding), now});
    }
  }
  std::erase_if(cgroup_windows_, [&](const auto& entry) { return !members.contains(entry.first); });
  return found;
}

void LeakDetector::keep_recently_missing(std::vector<ActiveFinding>& current) const {
  std::set<FindingKey> found;
  for (const auto& f : current) found.insert(key_of(f));
  for (const auto& f : active_) {
    const bool subject_gone = f.process ? !windows_.contains(*f.process) : !cgroup_windows_.contains(f.cgroup);
    if (found.contains(key_of(f)) || subject_gone || f.missing_rounds + 1 >= kEndAfterMissingRounds) continue;
    current.push_back(f);
    current.back().missing_rounds++;
  }
}

void LeakDetector::update(const NodeSample& sample, double now) {
  std::vector<ActiveFinding> current = process_findings(sample, now);
  for (auto& f : cgroup_findings(sample, now, current)) current.push_back(std::move(f));
  keep_recently_missing(current);
  // Once a cgroup's workers are known to leak across restarts, one of them
  // growing is that same leak: said once, about the cgroup, and steadily,
  // not started and ended with every worker.
  std::set<std::pair<std::string, FindingKind>> across_restarts;
  for (const auto& f : current) {
    if (f.finding.across_restarts) across_restarts.emplace(f.cgroup, f.finding.kind);
  }
  std::erase_if(current, [&](const ActiveFinding& f) {
    return f.process && across_restarts.contains({f.cgroup, f.finding.kind});
  });
  std::map<FindingKey, ActiveFinding> previous;
  for (auto& f : active_) previous.emplace(key_of(f), std::move(f));
  for (auto& f : current) {
    if (const auto it = previous.find(key_of(f)); it != previous.end()) {
      f.since = it->second.since;
      previous.erase(it);
    } else {
      changes_.push_back({true, f});
    }
  }
  // Whatever was active and is not now has ended, including findings of
  // processes that exited.
  for (auto& [key, f] : previous) changes_.push_back({false, std::move(f)});
  std::stable_sort(current.begin(), current.end(), [](const ActiveFinding& a, const ActiveFinding& b) {
    return a.finding.severity > b.finding.severity;
  });
  active_ = std::move(current);
}

}  // namespace lw
