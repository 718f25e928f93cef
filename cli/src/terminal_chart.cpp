#include "terminal_chart.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/units.h"

namespace lw::cli {
namespace {

constexpr const char* kLevels[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

// Averages consecutive samples so the row fits the width.
std::vector<double> fit(const std::vector<double>& values, size_t width) {
  if (values.size() <= width) return values;
  std::vector<double> out(width, 0);
  for (size_t col = 0; col < width; ++col) {
    const size_t from = col * values.size() / width, to = (col + 1) * values.size() / width;
    for (size_t i = from; i < to; ++i) out[col] += values[i];
    out[col] /= static_cast<double>(to - from);
  }
  return out;
}

double max_of(const std::vector<ChartRow>& rows) {
  double m = 0;
  for (const auto& r : rows) {
    for (const double v : r.values) m = std::max(m, v);
  }
  return m;
}

std::string human(double value, const std::string& unit) {
  const auto bytes = static_cast<uint64_t>(std::max(0.0, value));
  return unit == "bytes/s" ? human_bytes(bytes) + "/s" : human_bytes(bytes);
}

std::string row_line(const ChartRow& row, double scale, size_t width, size_t label_width) {
  std::string line = fmt::format("  {:<{}}  ", row.label, label_width);
  for (const double v : fit(row.values, width)) {
    const size_t level = scale > 0 ? static_cast<size_t>(std::clamp(v / scale, 0.0, 1.0) * 8 + 0.5) : 0;
    line += kLevels[level];
  }
  const auto [lo, hi] = std::minmax_element(row.values.begin(), row.values.end());
  if (lo != row.values.end()) line += fmt::format("  {} .. {}", human(*lo, row.unit), human(*hi, row.unit));
  return line + "\n";
}

}  // namespace

std::string render_chart(const std::vector<ChartRow>& shared_scale, const std::vector<ChartRow>& own_scale,
                         size_t width) {
  size_t label_width = 0;
  for (const auto* rows : {&shared_scale, &own_scale}) {
    for (const auto& r : *rows) label_width = std::max(label_width, r.label.size());
  }
  std::string out;
  const double shared = max_of(shared_scale);
  for (const auto& row : shared_scale) out += row_line(row, shared, width, label_width);
  for (const auto& row : own_scale) out += row_line(row, max_of({row}), width, label_width);
  return out;
}

}  // namespace lw::cli
