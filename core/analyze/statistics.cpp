#include "analyze/statistics.h"

#include <algorithm>
#include <cmath>

namespace lw {

double median(std::vector<double> v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  return (upper + *std::max_element(v.begin(), v.begin() + mid)) / 2;
}

std::optional<double> theil_sen_slope(const std::vector<double>& t, const std::vector<double>& y) {
  const size_t n = std::min(t.size(), y.size());
  std::vector<double> slopes;
  slopes.reserve(n * (n - (n > 0)) / 2);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (t[j] != t[i]) slopes.push_back((y[j] - y[i]) / (t[j] - t[i]));
    }
  }
  if (slopes.empty()) return std::nullopt;
  return median(std::move(slopes));
}

std::optional<double> pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 3) return std::nullopt;
  double mean_x = 0, mean_y = 0;
  for (size_t i = 0; i < n; ++i) {
    mean_x += x[i];
    mean_y += y[i];
  }
  mean_x /= n;
  mean_y /= n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mean_x) * (y[i] - mean_y);
    sxx += (x[i] - mean_x) * (x[i] - mean_x);
    syy += (y[i] - mean_y) * (y[i] - mean_y);
  }
  if (sxx <= 0 || syy <= 0) return std::nullopt;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

double steadiness(const std::vector<double>& y) {
  long long concordant = 0, pairs = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    for (size_t j = i + 1; j < y.size(); ++j) {
      concordant += (y[j] > y[i]) - (y[j] < y[i]);
      ++pairs;
    }
  }
  return pairs == 0 ? 0 : std::max(0.0, static_cast<double>(concordant) / pairs);
}

}  // namespace lw
