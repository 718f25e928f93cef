#include "analyze/subject_window.h"

#include <algorithm>
#include <cmath>
#include <map>
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

// More severe, then surer; on a tie the one already kept (the shorter
// window's, which says how things stand now) stays.
bool outranks(const Finding& a, const Finding& b) {
  return std::tie(a.severity, a.confidence) > std::tie(b.severity, b.confidence);
}

}  // namespace

SubjectWindow::SubjectWindow(AnalysisConfig config) : config_(std::move(config)) {
  for (const double span : window_spans(config_)) {
    windows_.push_back({span, span / kPointsPerWindow, {}, {}, {}});
  }
}

// The shortest window keeps every sample until it holds kPointsPerWindow,
// so a verdict comes after min_samples rounds at any interval; past that,
// its oldest two neighbours in one slice become their mean (the latest
// sample stays as it came). A longer window holds one mean per slice from
// the start, the current slice's included: evenly spread, so the samples of
// its newest slice do not outvote the rest, and each slice's level is kept,
// not one instant of a cycle. (A longer window is judged only once it
// covers more than the one before it: it needs no early density.)
void SubjectWindow::keep(Window& w, const Observation& o) const {
  auto& points = w.points;
  const bool shortest = &w == &windows_.front();
  const auto slice = [&w](const Observation& p) { return std::floor(p.time / w.slice); };
  const auto merge_into_next = [&](size_t i) {
    const double earlier = w.weights[i], later = w.weights[i + 1];
    points[i + 1] = combine_samples(points[i], points[i + 1],
                                    [=](double a, double b) { return (a * earlier + b * later) / (earlier + later); });
    w.weights[i + 1] += earlier;
    const auto at = static_cast<std::ptrdiff_t>(i);
    points.erase(points.begin() + at);
    w.weights.erase(w.weights.begin() + at);
    if (shortest) return;
    w.peaks[i + 1] = combine_samples(w.peaks[i], w.peaks[i + 1], [](double a, double b) { return std::max(a, b); });
    w.peaks.erase(w.peaks.begin() + at);
  };
  points.push_back(o);
  w.weights.push_back(1);
  if (!shortest) {
    // Findings name endpoints from the latest sample, which the subject
    // keeps apart: the longer windows hold only totals, and their peaks
    // (read only as the level held before a shorter window) only numbers.
    points.back().endpoints = {};
    w.peaks.push_back(points.back());
    w.peaks.back().listeners = {};
  }
  while (points.front().time < o.time - w.span) {
    points.pop_front();
    w.weights.pop_front();
    if (!shortest) w.peaks.pop_front();
  }
  if (!shortest) {
    if (points.size() >= 2 && slice(points[points.size() - 2]) == slice(o)) merge_into_next(points.size() - 2);
    return;
  }
  if (points.size() <= kPointsPerWindow) return;
  for (size_t i = 0; i + 2 < points.size(); ++i) {
    if (slice(points[i]) == slice(points[i + 1])) return merge_into_next(i);
  }
}

void SubjectWindow::add(const Observation& o) {
  if (latest_ && o.time <= latest_->time) return;
  Observation sample = o;
  // A counter that goes backwards restarted from zero: what it had counted
  // stays counted, so ingress remains cumulative across the reset.
  if (latest_ && o.ingress_bytes_total < last_raw_ingress_) ingress_offset_ += last_raw_ingress_;
  sample.ingress_bytes_total += ingress_offset_;
  last_raw_ingress_ = o.ingress_bytes_total;
  if (added_++ == 0) first_time_ = o.time;
  for (auto& w : windows_) keep(w, sample);
  latest_ = std::move(sample);
}

double SubjectWindow::covered(const Window& w) const {
  return w.points.empty() ? 0 : latest_->time - w.points.front().time;
}

WorkerLife SubjectWindow::life() const {
  WorkerLife life;
  if (!latest_) return life;
  life.lived_seconds = latest_->time - first_time_;
  life.samples = added_;
  // The shortest window that still holds the whole life.
  for (const auto& w : windows_) {
    if (w.span < life.lived_seconds && &w != &windows_.back()) continue;
    life.anon = fit_trend(series_of(w.points, [](const Observation& o) { return o.resident.anon; }));
    break;
  }
  return life;
}

void SubjectWindow::worker_exited(const WorkerLife& life) {
  workers_.push_back(life);
  if (workers_.size() > kWorkerLives) workers_.pop_front();
}

double SubjectWindow::span_seconds() const { return latest_ ? latest_->time - first_time_ : 0; }

size_t SubjectWindow::points() const {
  size_t n = 0;
  for (const auto& w : windows_) n += w.points.size();
  return n;
}

std::vector<Finding> SubjectWindow::findings_over(const Window& w, const Window* longer) const {
  constexpr double min_intervals = 3;
  const auto& points = w.points;
  if (points.size() < std::max<size_t>(config_.min_samples, 2)) return {};
  if (covered(w) < min_intervals * median_interval(points)) return {};

  const AnalysisConfig thresholds = thresholds_for(config_, covered(w));
  const Subject subject = describe_subject(thresholds, points, *latest_, longer ? &longer->peaks : nullptr, workers_);
  std::vector<Finding> found;
  for (const auto& kind : finding_kinds()) {
    if (auto f = kind.detect(subject)) {
      f->window_seconds = covered(w);
      found.push_back(std::move(*f));
    }
  }
  return found;
}

std::vector<Finding> SubjectWindow::findings() const {
  std::map<FindingKind, Finding> best;
  for (size_t i = 0; i < windows_.size(); ++i) {
    // A longer window that covers no more time than the one before it sees
    // the same samples, fewer of them.
    if (i > 0 && covered(windows_[i]) <= windows_[i - 1].span) break;
    const Window* longer = i + 1 < windows_.size() ? &windows_[i + 1] : nullptr;
    for (auto& f : findings_over(windows_[i], longer)) {
      const auto kept = best.find(f.kind);
      if (kept == best.end()) {
        best.emplace(f.kind, std::move(f));
      } else if (outranks(f, kept->second)) {
        kept->second = std::move(f);
      }
    }
  }
  std::vector<Finding> found;
  for (auto& [kind, f] : best) found.push_back(std::move(f));
  std::stable_sort(found.begin(), found.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.severity, a.share_of_growth) > std::tie(b.severity, b.share_of_growth);
  });
  return found;
}

}  // namespace lw
