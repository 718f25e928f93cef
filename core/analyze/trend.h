// A quantity's trend over a subject's window: how steep, how steady, and
// whether it still goes on.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "analyze/analysis_config.h"
#include "model/observation.h"

namespace lw {

// The points of one quantity over the window; samples where it is unknown
// are left out, not read as zero, so a gap cannot pose as a drop or a rise.
struct Series {
  std::vector<double> t, y;
};

using Accessor = std::function<std::optional<double>(const Observation&)>;

Series series_of(const std::deque<Observation>& samples, const Accessor& value);

struct Trend {
  double slope = 0;         // per second, over the window
  double recent_slope = 0;  // per second, over its later half
  double steadiness = 0;
  double rise = 0;   // slope x the window's span: the growth the fit claims
  double noise = 0;  // median absolute residual around the fitted line
  // Its latest level is no higher than one it held before: earlier in the
  // window, or before the window began (`earlier_peak`).
  bool regains_earlier_level = false;
};

std::optional<Trend> fit_trend(const Series& s, std::optional<double> earlier_peak = std::nullopt);

// Growth that is steep, steady, and still going on: the recent half must
// keep at least a third of the window's pace, so a cache that warmed up and
// levelled off, or a burst that is being drained, is not a leak. Nor is
// growth that only climbs back to a level already held (a GC cycle, a daily
// load cycle) until it passes that level.
bool grows(const std::optional<Trend>& trend, double min_rate, double min_steadiness);

// Counts (connections, fds) are small integers that swing with load: a few
// samples of a count going 0, 3, 1, 4, 2, 5 look steady by chance. A count
// grows only when the fitted rise is a real number of items and stands well
// clear of the swing around the line.
bool count_grows(const std::optional<Trend>& trend, const AnalysisConfig& config);

}  // namespace lw
