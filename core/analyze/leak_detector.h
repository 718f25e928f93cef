// The agent's diagnosis: one analysis window per process and one per cgroup,
// fed a round at a time, and the findings that started or ended since the
// last round. A cgroup's window sees what no process window can: a leak
// spread over many workers, each too slow to show it, and, from the lives
// of its workers that exited, a leak that recycling them hides.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "analyze/subject_window.h"
#include "model/node_sample.h"

namespace lw {

struct ActiveFinding {
  std::optional<ProcessKey> process;  // nullopt: a finding about the whole cgroup
  std::string comm;
  std::string cgroup;
  PodIdentity pod;  // of the process, or of the cgroup when there is none
  Finding finding;
  double since = 0;        // seconds, monotonic: when it was first reported
  bool paging = false;     // set by PagingRule: someone should be woken for it
  int missing_rounds = 0;  // consecutive rounds it was not found and was kept (see LeakDetector)
};

// A finding's identity across rounds: its subject and kind (not its
// severity, which may change while it lasts).
using FindingKey = std::tuple<std::optional<ProcessKey>, std::string, FindingKind>;
FindingKey key_of(const ActiveFinding& f);

struct FindingChange {
  bool started = true;  // false: it ended
  ActiveFinding finding;
};

// A finding ends once it has been missing for kEndAfterMissingRounds
// consecutive rounds, or at once when its process exits or its cgroup
// empties. A trend at its threshold, or one rule handing over to another
// (a send queue that stops growing because it is full, a round before its
// peer counts as stalled), would otherwise end and restart it within
// seconds: two log lines, two alerts, and the alert's `for:` clock reset.
inline constexpr int kEndAfterMissingRounds = 3;

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
  std::vector<ActiveFinding> process_findings(const NodeSample& sample, double now);
  std::vector<ActiveFinding> cgroup_findings(const NodeSample& sample, double now,
                                             const std::vector<ActiveFinding>& by_process);
  // Adds to `current` what was active, is missing now, and has not ended yet.
  void keep_recently_missing(std::vector<ActiveFinding>& current) const;

  struct ProcessWindow {
    SubjectWindow window;
    std::string cgroup;  // told the process's life when it exits
  };

  AnalysisConfig config_;
  std::map<ProcessKey, ProcessWindow> windows_;
  std::map<std::string, SubjectWindow> cgroup_windows_;
  std::vector<ActiveFinding> active_;
  std::vector<FindingChange> changes_;
};

}  // namespace lw
