// Leak diagnosis on one subject's sample series (a process or a cgroup, from
// `inspect --watch` or the agent): a sliding window and the findings it
// supports. Pure: no BPF, no /proc, so it is tested on synthetic series as
// well as live.
#pragma once

#include <deque>
#include <vector>

#include "analyze/analysis_config.h"
#include "analyze/finding.h"
#include "model/observation.h"

namespace lw {

class SubjectWindow {
 public:
  explicit SubjectWindow(AnalysisConfig config) : config_(config) {}
  // Samples must come in time order; an older or equal time is ignored.
  void add(const Observation& o);
  size_t samples() const { return samples_.size(); }
  double span_seconds() const;
  // Empty until min_samples samples are in; never throws. Most severe first.
  std::vector<Finding> findings() const;

 private:
  AnalysisConfig config_;
  std::deque<Observation> samples_;
  double ingress_offset_ = 0;  // added after a counter reset, so ingress stays cumulative
};

}  // namespace lw
