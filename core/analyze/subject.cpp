#include "analyze/subject.h"

#include <algorithm>
#include <tuple>

#include "analyze/statistics.h"

namespace lw {
namespace {

std::optional<double> footprint(const Observation& o) { return o.footprint(); }

std::optional<double> ingress_correlation(const std::deque<Observation>& samples) {
  std::vector<double> memory, ingress;
  for (const auto& o : samples) {
    if (const auto f = o.footprint()) {
      memory.push_back(*f);
      ingress.push_back(o.ingress_bytes_total);
    }
  }
  return pearson(memory, ingress);
}

std::optional<double> seconds_to_limit(const Observation& latest, std::optional<double> latest_footprint,
                                       const std::optional<Trend>& footprint) {
  const auto usage = latest.memory_usage ? latest.memory_usage : latest_footprint;
  if (!latest.memory_limit || !usage || !footprint || footprint->slope <= 0) return std::nullopt;
  return std::max(0.0, (*latest.memory_limit - *usage) / footprint->slope);
}

// critical: the memory limit is under an hour away and this finding drives a
// real part of the growth, or a near-certain finding that explains most of
// it; info: a weak signal worth watching; warning: the rest.
Severity severity_of(const Finding& f) {
  constexpr double soon = 3600;
  if (f.seconds_to_limit && *f.seconds_to_limit < soon && f.share_of_growth >= 0.25) return Severity::critical;
  if (f.confidence >= 0.9 && f.share_of_growth >= 0.5) return Severity::critical;
  if (f.confidence < 0.5) return Severity::info;
  return Severity::warning;
}

}  // namespace

Subject describe_subject(const AnalysisConfig& config, const std::deque<Observation>& samples,
                         const Observation& latest, const std::deque<Observation>* longer,
                         const std::deque<WorkerLife>& workers) {
  const Series series = series_of(samples, footprint);
  Subject s{config, samples, longer, workers, latest, fit_trend(series), std::nullopt, std::nullopt, std::nullopt};
  s.latest_footprint = latest.footprint();
  if (!s.latest_footprint && !series.y.empty()) s.latest_footprint = series.y.back();
  s.ingress_correlation = ingress_correlation(samples);
  s.seconds_to_limit = seconds_to_limit(s.latest, s.latest_footprint, s.footprint);
  return s;
}

std::optional<double> earlier_peak(const Subject& s, const Accessor& value) {
  std::optional<double> peak;
  if (!s.longer) return peak;
  for (const auto& o : *s.longer) {
    if (o.time >= s.samples.front().time) break;
    if (const auto v = value(o)) peak = std::max(peak.value_or(*v), *v);
  }
  return peak;
}

std::optional<Trend> trend_of(const Subject& s, const Accessor& value) {
  return fit_trend(series_of(s.samples, value), earlier_peak(s, value));
}

double queue_slope(const Subject& s) {
  const auto t = trend_of(s, [](const Observation& o) { return o.receive_queue_bytes + o.send_queue_bytes; });
  return t ? t->slope : 0;
}

// A trend just at the threshold with just min_samples samples lands near
// 0.15; a clean leak over a full window near 1.
double growth_confidence(const Trend& trend, double min_rate, const Subject& s) {
  const double steepness = 1 - min_rate / (2 * std::max(trend.slope, min_rate));
  const double history = std::min(1.0, static_cast<double>(s.samples.size()) / (2.0 * s.config.min_samples));
  return trend.steadiness * steepness * history;
}

Finding make_finding(FindingKind kind, const Subject& s, double growth, double memory_slope, double confidence) {
  Finding f{};
  f.kind = kind;
  f.confidence = std::clamp(confidence, 0.0, 1.0);
  f.growth_per_second = growth;
  if (s.footprint && s.footprint->slope > 0)
    f.share_of_growth = std::clamp(memory_slope / s.footprint->slope, 0.0, 1.0);
  f.ingress_correlation = s.ingress_correlation;
  f.seconds_to_limit = s.seconds_to_limit;
  f.severity = severity_of(f);
  return f;
}

std::vector<Contributor> top_contributors(const std::vector<EndpointGroup>& endpoints, const EndpointCount& count,
                                          const EndpointCount& queued, RankBy rank_by) {
  constexpr size_t most = 5;
  std::vector<Contributor> all;
  for (const auto& e : endpoints) {
    Contributor c{endpoint_label(e), count(e), queued(e), std::nullopt};
    if (e.stalled_sockets > 0) c.stalled_seconds = e.max_stalled_seconds;
    if ((rank_by == RankBy::count ? c.connections : c.queued_bytes) > 0) all.push_back(std::move(c));
  }
  const auto key = [rank_by](const Contributor& c) {
    return rank_by == RankBy::count ? std::tuple(c.connections, c.queued_bytes)
                                    : std::tuple(c.queued_bytes, c.connections);
  };
  std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) { return key(a) > key(b); });
  if (all.size() > most) all.resize(most);
  return all;
}

uint64_t connections(const EndpointGroup& e) { return e.connections; }
uint64_t close_waits(const EndpointGroup& e) { return count_of(e.states, "CLOSE_WAIT"); }
uint64_t receive_queue(const EndpointGroup& e) { return e.receive_queue_bytes; }
uint64_t send_queue(const EndpointGroup& e) { return e.send_queue_bytes; }
uint64_t queues(const EndpointGroup& e) { return e.receive_queue_bytes + e.send_queue_bytes; }

}  // namespace lw
