// A chart for a terminal: one sparkline row per series over the same time
// axis, so memory components can be read against ingress at a glance.
#pragma once

#include <string>
#include <vector>

namespace lw::cli {

struct ChartRow {
  std::string label;
  std::vector<double> values;  // one per sample, oldest first
  std::string unit;            // "bytes" or "bytes/s": how the range is printed
};

// Rows sharing `shared_scale` are drawn against the largest value among
// them (memory components against each other); the others against their own.
std::string render_chart(const std::vector<ChartRow>& shared_scale, const std::vector<ChartRow>& own_scale,
                         size_t width = 60);

}  // namespace lw::cli
