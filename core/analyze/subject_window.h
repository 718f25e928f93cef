// Leak diagnosis on one subject's sample series (a process or a cgroup, from
// `inspect --watch` or the agent): sliding windows at several time scales
// and the findings they support. Pure: no BPF, no /proc, so it is tested on
// synthetic series as well as live.
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "analyze/analysis_config.h"
#include "analyze/finding.h"
#include "analyze/subject.h"
#include "model/observation.h"

namespace lw {

class SubjectWindow {
 public:
  // Each window keeps about this many points (two more at its edges): one
  // per 1/kPointsPerWindow of its span once full. The
  // statistics are quadratic in samples (3,600 took 2 s per subject), so
  // this bounds a round's analysis whatever the spans and the interval.
  static constexpr size_t kPointsPerWindow = 60;

  explicit SubjectWindow(AnalysisConfig config);
  // Samples must come in time order; an older or equal time is ignored.
  void add(const Observation& o);
  size_t samples() const { return added_; }  // taken in, all told
  double span_seconds() const;               // from the first of them to the latest
  size_t points() const;                     // kept, all windows together
  // This subject's anonymous memory over its life so far: what its
  // cgroup's window keeps when it exits.
  WorkerLife life() const;
  // For a cgroup's window: one of its processes exited after `life`. The
  // last kWorkerLives are kept, for leaks that recycling workers hides.
  void worker_exited(const WorkerLife& life);
  static constexpr size_t kWorkerLives = 8;

  // Empty until a window holds min_samples samples; never throws. One per
  // kind, from the window that makes it most severe; most severe first.
  std::vector<Finding> findings() const;

 private:
  struct Window {
    double span = 0;
    double slice = 0;                // span / kPointsPerWindow
    std::deque<Observation> points;  // a mean of the samples each stands for
    std::deque<Observation> peaks;   // the highest of each number among them (longer windows)
    std::deque<double> weights;      // how many samples each point stands for
  };
  void keep(Window& w, const Observation& o) const;
  double covered(const Window& w) const;  // seconds from its first point to the latest sample
  std::vector<Finding> findings_over(const Window& w, const Window* longer) const;

  AnalysisConfig config_;
  std::vector<Window> windows_;  // shortest first
  size_t added_ = 0;
  double first_time_ = 0;
  std::deque<WorkerLife> workers_;
  std::optional<Observation> latest_;  // as it came, but for the ingress offset
  double last_raw_ingress_ = 0;
  double ingress_offset_ = 0;  // added after a counter reset, so ingress stays cumulative
};

}  // namespace lw
