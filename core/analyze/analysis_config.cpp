#include "analyze/analysis_config.h"

#include <algorithm>

namespace lw {

std::vector<double> window_spans(const AnalysisConfig& config) {
  std::vector<double> spans{config.window_seconds};
  std::vector<double> longer = config.longer_windows_seconds;
  std::sort(longer.begin(), longer.end());
  for (const double span : longer) {
    if (span > spans.back()) spans.push_back(span);
  }
  return spans;
}

AnalysisConfig thresholds_for(const AnalysisConfig& config, double covered_seconds) {
  AnalysisConfig scaled = config;
  const double stretch = config.window_seconds / std::max(covered_seconds, config.window_seconds);
  const auto stretched = [stretch](double floor, double slowest) {
    return std::max(floor * stretch, std::min(floor, slowest));
  };
  scaled.min_memory_growth_bytes_per_second =
      stretched(config.min_memory_growth_bytes_per_second, config.min_slow_memory_growth_bytes_per_second);
  scaled.min_count_growth_per_second =
      stretched(config.min_count_growth_per_second, config.min_slow_count_growth_per_second);
  return scaled;
}

}  // namespace lw
