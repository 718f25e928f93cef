// The statistics the findings rest on, robust to the noise of live systems.
#pragma once

#include <optional>
#include <vector>

namespace lw {

double median(std::vector<double> v);  // v not empty
// Robust slope of y over t (Theil-Sen: the median of pairwise slopes);
// nullopt with fewer than two distinct times.
std::optional<double> theil_sen_slope(const std::vector<double>& t, const std::vector<double>& y);
// Pearson correlation; nullopt when either series is constant or too short.
std::optional<double> pearson(const std::vector<double>& x, const std::vector<double>& y);
// Kendall's tau clamped to 0..1: how consistently later points lie above
// earlier ones. Comparing every pair, not only neighbours, lets a trend
// outvote noise larger than one step: a noisy rise scores near 1, noise
// around a level near 0.
double steadiness(const std::vector<double>& y);

}  // namespace lw
