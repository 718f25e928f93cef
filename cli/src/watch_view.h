// What a watch shows at its end, live (`inspect --watch`) or replayed
// (`leakwatch analyze`): the chart of the footprint against ingress and the
// verdict, as text or as the report's "watch" object.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyze/subject_window.h"
#include "model/observation.h"

namespace lw::cli {

// The chart's series, one value per sample.
class WatchSeries {
 public:
  void add(const Observation& o);
  // Ingress per second since the sample before; 0 for the first.
  double last_ingress_rate() const { return ingress_rate_.empty() ? 0 : ingress_rate_.back(); }
  std::string chart() const;

 private:
  std::vector<double> anon_, file_shmem_, receive_, send_, ingress_rate_;
  double last_time_ = 0, last_ingress_ = 0;
};

// The verdict of a window that saw the whole watch.
struct WatchOutcome {
  std::vector<Finding> findings;
  double watched_seconds = 0;
  size_t samples = 0;
  double interval_seconds = 0;
  bool process_exited = false;
};

WatchOutcome outcome_of(const SubjectWindow& window, double interval_seconds, bool process_exited);
// The report's "watch" object (docs/inspect-json.md).
nlohmann::ordered_json watch_json(const WatchOutcome& outcome);
// The chart and the verdict, as text.
std::string watch_text(const WatchOutcome& outcome, const WatchSeries& series, pid_t pid);

}  // namespace lw::cli
