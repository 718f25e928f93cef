#include "analyze/subject_window.h"

#include <algorithm>
#include <tuple>

#include "analyze/finding_kinds.h"
#include "analyze/statistics.h"
#include "analyze/subject.h"

namespace lw {
namespace {

double median_interval(const std::deque<Observation>& samples) {
  std::vector<double> gaps;
  for (size_t i = 1; i < samples.size(); ++i) gaps.push_back(samples[i].time - samples[i - 1].time);
  return gaps.empty() ? 0 : median(std::move(gaps));
}

}  // namespace

void SubjectWindow::add(const Observation& o) {
  if (!samples_.empty() && o.time <= samples_.back().time) return;
  if (!samples_.empty()) {
    // A counter that goes backwards restarted from zero: what it had counted
    // stays counted, so ingress remains cumulative across the reset.
    const double previous_raw = samples_.back().ingress_bytes_total - ingress_offset_;
    if (o.ingress_bytes_total < previous_raw) ingress_offset_ += previous_raw;
  }
  samples_.push_back(o);
  samples_.back().ingress_bytes_total += ingress_offset_;
  while (samples_.front().time < o.time - config_.window_seconds) samples_.pop_front();
}

double SubjectWindow::span_seconds() const {
  return samples_.empty() ? 0 : samples_.back().time - samples_.front().time;
}

std::vector<Finding> SubjectWindow::findings() const {
  constexpr double min_intervals = 3;
  if (samples_.size() < std::max<size_t>(config_.min_samples, 2)) return {};
  if (span_seconds() < min_intervals * median_interval(samples_)) return {};

  const Subject subject = describe_subject(config_, samples_);
  std::vector<Finding> found;
  for (const auto& kind : finding_kinds()) {
    if (auto f = kind.detect(subject)) found.push_back(std::move(*f));
  }
  std::stable_sort(found.begin(), found.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.severity, a.share_of_growth) > std::tie(b.severity, b.share_of_growth);
  });
  return found;
}

}  // namespace lw
