#include "analyze/trend.h"

#include <algorithm>
#include <cmath>

#include "analyze/statistics.h"

namespace lw {
namespace {

Series recent_half(const Series& s) {
  const double from = s.t.back() - (s.t.back() - s.t.front()) / 2;
  const auto first = std::lower_bound(s.t.begin(), s.t.end(), from) - s.t.begin();
  return {{s.t.begin() + first, s.t.end()}, {s.y.begin() + first, s.y.end()}};
}

// The typical distance of the points from the Theil-Sen line (its intercept
// is the median of y - slope t).
double residual_noise(const Series& s, double slope) {
  std::vector<double> offsets;
  for (size_t i = 0; i < s.y.size(); ++i) offsets.push_back(s.y[i] - slope * s.t[i]);
  const double intercept = median(offsets);
  std::vector<double> residuals;
  for (const double o : offsets) residuals.push_back(std::abs(o - intercept));
  return median(std::move(residuals));
}

// The latest level, robust to one odd sample: the median of the last three.
double latest_level(const Series& s) {
  const size_t n = std::min<size_t>(3, s.y.size());
  return median({s.y.end() - static_cast<std::ptrdiff_t>(n), s.y.end()});
}

// Within its noise of an earlier peak is not past it.
bool regains_earlier_level(const Series& s, std::optional<double> earlier_peak, double noise) {
  const double from = s.t.back() - (s.t.back() - s.t.front()) / 2;
  std::optional<double> peak = earlier_peak;
  for (size_t i = 0; i < s.t.size() && s.t[i] < from; ++i) peak = std::max(peak.value_or(s.y[i]), s.y[i]);
  return peak && latest_level(s) <= *peak + noise;
}

}  // namespace

Series series_of(const std::deque<Observation>& samples, const Accessor& value) {
  Series s;
  for (const auto& o : samples) {
    if (const auto v = value(o)) {
      s.t.push_back(o.time);
      s.y.push_back(*v);
    }
  }
  return s;
}

std::optional<Trend> fit_trend(const Series& s, std::optional<double> earlier_peak) {
  const auto slope = theil_sen_slope(s.t, s.y);
  if (!slope) return std::nullopt;
  const Series recent = recent_half(s);
  const double noise = residual_noise(s, *slope);
  // Without two recent points the growth cannot be shown to continue.
  return Trend{*slope,          theil_sen_slope(recent.t, recent.y).value_or(0),
               steadiness(s.y), *slope * (s.t.back() - s.t.front()),
               noise,           regains_earlier_level(s, earlier_peak, noise)};
}

bool grows(const std::optional<Trend>& trend, double min_rate, double min_steadiness) {
  return trend && trend->slope >= min_rate && trend->steadiness >= min_steadiness &&
         trend->recent_slope >= std::max(min_rate, trend->slope / 3) && !trend->regains_earlier_level;
}

bool count_grows(const std::optional<Trend>& trend, const AnalysisConfig& config) {
  constexpr double clear_of_noise = 3;
  return grows(trend, config.min_count_growth_per_second, config.min_steadiness) &&
         trend->rise >= std::max(config.min_count_rise, clear_of_noise * trend->noise);
}

}  // namespace lw
