// The agent's diagnosis: one analysis window per process, fed a round at a
// time, and the findings that started or ended since the last round.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "leakwatch/analysis.h"
#include "leakwatch/node_sample.h"

namespace lw {

struct ActiveFinding {
  ProcessKey process;
  std::string comm;
  std::string cgroup;
  Finding finding;
  double since = 0;  // seconds, monotonic: when it was first reported
};

struct FindingChange {
  bool started = true;  // false: it ended
  ActiveFinding finding;
};

class LeakDetector {
 public:
  explicit LeakDetector(AnalysisConfig config) : config_(config) {}
  // Adds one round at `now` (seconds, monotonic) and updates what is active.
  void update(const NodeSample& sample, double now);
  // Active findings, most severe first.
  const std::vector<ActiveFinding>& active() const { return active_; }
  // What started or ended since the last call.
  std::vector<FindingChange> take_changes() { return std::exchange(changes_, {}); }

 private:
  AnalysisConfig config_;
  std::map<ProcessKey, SubjectWindow> windows_;
  std::vector<ActiveFinding> active_;
  std::vector<FindingChange> changes_;
};

}  // namespace lw
