#include "leakwatch/analysis.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace lw {

std::string_view to_string(FindingKind kind) {
  switch (kind) {
    case FindingKind::socket_receive_backlog: return "socket-receive-backlog";
    case FindingKind::socket_send_backlog: return "socket-send-backlog";
    case FindingKind::connection_leak: return "connection-leak";
    case FindingKind::close_wait_leak: return "close-wait-leak";
    case FindingKind::heap_growth: return "heap-growth";
    case FindingKind::fd_leak: return "fd-leak";
  }
  return "unknown";
}

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::critical: return "critical";
  }
  return "unknown";
}

namespace {

double median(std::vector<double> v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  return (upper + *std::max_element(v.begin(), v.begin() + mid)) / 2;
}

}  // namespace

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

namespace {

// ---- Human units, for the explanations (the CLI has its own richer set).

std::string format_bytes(double bytes) {
  constexpr std::array units{"B", "KiB", "MiB", "GiB", "TiB"};
  size_t unit = 0;
  while (std::abs(bytes) >= 1024 && unit + 1 < units.size()) {
    bytes /= 1024;
    ++unit;
  }
  if (unit == 0) return fmt::format("{:.0f} B", bytes);
  return fmt::format("{:.1f} {}", bytes, units[unit]);
}

// "45s", "5m00s", "2h05m": exact enough to compare with a stall threshold.
std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, std::round(seconds)));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
}

// "41 minutes", "3 hours": a forecast should not look more precise than it is.
std::string rough_duration(double seconds) {
  const auto unit = [](double n, std::string_view name) {
    const auto whole = std::max<long long>(1, std::llround(n));
    return fmt::format("{} {}{}", whole, name, whole == 1 ? "" : "s");
  };
  if (seconds < 90) return unit(seconds, "second");
  if (seconds < 90 * 60) return unit(seconds / 60, "minute");
  if (seconds < 36 * 3600) return unit(seconds / 3600, "hour");
  return unit(seconds / 86400, "day");
}

std::string count_of(uint64_t n, std::string_view noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); }

std::string per_minute(double per_second) { return fmt::format("{:.1f} per minute", per_second * 60); }

// ---- Series and trends.

// The points of one quantity over the window; samples where it is unknown
// are left out, not read as zero, so a gap cannot pose as a drop or a rise.
struct Series {
  std::vector<double> t, y;
};

using Accessor = std::function<std::optional<double>(const Observation&)>;

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

// Kendall's tau clamped to 0..1: how consistently later points lie above
// earlier ones. Comparing every pair, not only neighbours, lets a trend
// outvote noise larger than one step: a noisy rise scores near 1, noise
// around a level near 0.
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

Series recent_half(const Series& s) {
  const double from = s.t.back() - (s.t.back() - s.t.front()) / 2;
  const auto first = std::lower_bound(s.t.begin(), s.t.end(), from) - s.t.begin();
  return {{s.t.begin() + first, s.t.end()}, {s.y.begin() + first, s.y.end()}};
}

struct Trend {
  double slope = 0;         // per second, over the window
  double recent_slope = 0;  // per second, over its later half
  double steadiness = 0;
  double rise = 0;          // slope x the window's span: the growth the fit claims
  double noise = 0;         // median absolute residual around the fitted line
};

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

std::optional<Trend> fit_trend(const Series& s) {
  const auto slope = theil_sen_slope(s.t, s.y);
  if (!slope) return std::nullopt;
  const Series recent = recent_half(s);
  // Without two recent points the growth cannot be shown to continue.
  return Trend{*slope, theil_sen_slope(recent.t, recent.y).value_or(0), steadiness(s.y),
               *slope * (s.t.back() - s.t.front()), residual_noise(s, *slope)};
}

// Growth that is steep, steady, and still going on: the recent half must
// keep at least a third of the window's pace, so a cache that warmed up and
// levelled off, or a burst that is being drained, is not a leak.
bool grows(const std::optional<Trend>& trend, double min_rate, double min_steadiness) {
  return trend && trend->slope >= min_rate && trend->steadiness >= min_steadiness &&
         trend->recent_slope >= std::max(min_rate, trend->slope / 3);
}

// Counts (connections, fds) are small integers that swing with load: a few
// samples of a count going 0, 3, 1, 4, 2, 5 look steady by chance. A count
// grows only when the fitted rise is a real number of items and stands well
// clear of the swing around the line.
bool count_grows(const std::optional<Trend>& trend, const AnalysisConfig& config) {
  constexpr double clear_of_noise = 3;
  return grows(trend, config.min_count_growth_per_second, config.min_steadiness) &&
         trend->rise >= std::max(config.min_count_rise, clear_of_noise * trend->noise);
}

// ---- What the whole window says, shared by every finding.

constexpr std::array rss_fields{&Observation::rss_anon, &Observation::rss_file, &Observation::rss_shmem};

struct Subject {
  const AnalysisConfig& config;
  const std::deque<Observation>& samples;
  const Observation& latest;
  std::optional<Trend> footprint;
  std::optional<double> latest_footprint;
  std::optional<double> ingress_correlation;
  std::optional<double> seconds_to_limit;
};

// Footprint = rss (anon + file + shmem) + socket queues. A memory field the
// source reports somewhere in the window must be known in a sample for that
// sample to count; a field it never reports is left out altogether.
Accessor footprint_of(const std::deque<Observation>& samples) {
  std::array<bool, rss_fields.size()> reported{};
  for (const auto& o : samples) {
    for (size_t i = 0; i < rss_fields.size(); ++i) reported[i] = reported[i] || (o.*rss_fields[i]).has_value();
  }
  return [reported](const Observation& o) -> std::optional<double> {
    double sum = o.receive_queue_bytes + o.send_queue_bytes;
    for (size_t i = 0; i < rss_fields.size(); ++i) {
      if (!reported[i]) continue;
      if (!(o.*rss_fields[i])) return std::nullopt;
      sum += *(o.*rss_fields[i]);
    }
    return sum;
  };
}

std::optional<double> ingress_correlation(const std::deque<Observation>& samples, const Accessor& footprint) {
  std::vector<double> memory, ingress;
  for (const auto& o : samples) {
    if (const auto f = footprint(o)) {
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

Subject describe_subject(const AnalysisConfig& config, const std::deque<Observation>& samples) {
  const Accessor footprint = footprint_of(samples);
  const Series series = series_of(samples, footprint);
  Subject s{config, samples, samples.back(), fit_trend(series), std::nullopt, std::nullopt, std::nullopt};
  if (!series.y.empty()) s.latest_footprint = series.y.back();
  s.ingress_correlation = ingress_correlation(samples, footprint);
  s.seconds_to_limit = seconds_to_limit(s.latest, s.latest_footprint, s.footprint);
  return s;
}

std::optional<Trend> trend_of(const Subject& s, const Accessor& value) { return fit_trend(series_of(s.samples, value)); }

// ---- Building findings.

// How sure a growth verdict is: steadier, steeper (against the threshold)
// and longer-observed trends earn more. A trend just at the threshold with
// just min_samples samples lands near 0.15; a clean leak over a full window
// near 1.
double growth_confidence(const Trend& trend, double min_rate, const Subject& s) {
  const double steepness = 1 - min_rate / (2 * std::max(trend.slope, min_rate));
  const double history = std::min(1.0, static_cast<double>(s.samples.size()) / (2.0 * s.config.min_samples));
  return trend.steadiness * steepness * history;
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

// "; memory tracks ingress (r = 0.98); the memory limit is reached in about 41 minutes."
std::string subject_context(const Subject& s) {
  std::string text;
  // On a flat footprint r only measures noise; it is still in the finding.
  const bool memory_grows = s.footprint && s.footprint->slope >= s.config.min_memory_growth_bytes_per_second;
  if (s.ingress_correlation && memory_grows) {
    const double r = *s.ingress_correlation;
    text += fmt::format("; memory {} ingress (r = {:.2f})", r >= 0.7 ? "tracks" : "does not track", r);
  }
  if (s.seconds_to_limit) text += fmt::format("; the memory limit is reached in about {}", rough_duration(*s.seconds_to_limit));
  return text + ".";
}

// `memory_slope` is the part of the footprint's growth this finding holds.
Finding make_finding(FindingKind kind, const Subject& s, double growth, double memory_slope, double confidence) {
  Finding f{};
  f.kind = kind;
  f.confidence = std::clamp(confidence, 0.0, 1.0);
  f.growth_per_second = growth;
  if (s.footprint && s.footprint->slope > 0) f.share_of_growth = std::clamp(memory_slope / s.footprint->slope, 0.0, 1.0);
  f.ingress_correlation = s.ingress_correlation;
  f.seconds_to_limit = s.seconds_to_limit;
  f.severity = severity_of(f);
  return f;
}

void describe(Finding& f, const Subject& s, const std::string& observation, std::string_view fix) {
  f.explanation = observation + subject_context(s);
  f.suggested_fix = std::string(fix);
}

enum class RankBy { queued_bytes, count };

// The latest sample's endpoints, largest first by what the finding is about.
std::vector<Contributor> top_contributors(const std::vector<EndpointObservation>& endpoints,
                                          const std::function<uint64_t(const EndpointObservation&)>& count,
                                          const std::function<uint64_t(const EndpointObservation&)>& queued,
                                          RankBy rank_by) {
  constexpr size_t most = 5;
  std::vector<Contributor> all;
  for (const auto& e : endpoints) {
    Contributor c{e.endpoint, count(e), queued(e), std::nullopt};
    if (e.stalled_sockets > 0) c.stalled_seconds = e.max_stalled_seconds;
    if ((rank_by == RankBy::count ? c.connections : c.queued_bytes) > 0) all.push_back(std::move(c));
  }
  const auto key = [rank_by](const Contributor& c) {
    return rank_by == RankBy::count ? std::tuple(c.connections, c.queued_bytes) : std::tuple(c.queued_bytes, c.connections);
  };
  std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) { return key(a) > key(b); });
  if (all.size() > most) all.resize(most);
  return all;
}

uint64_t connections(const EndpointObservation& e) { return e.connections; }
uint64_t close_waits(const EndpointObservation& e) { return e.close_wait; }
uint64_t receive_queue(const EndpointObservation& e) { return e.receive_queue_bytes; }
uint64_t send_queue(const EndpointObservation& e) { return e.send_queue_bytes; }
uint64_t queues(const EndpointObservation& e) { return e.receive_queue_bytes + e.send_queue_bytes; }

// " (most to 10.2.0.7:8000, 12)"
std::string leading_endpoint(const std::vector<Contributor>& top) {
  if (top.empty()) return "";
  return fmt::format(" (most to {}, {})", top.front().endpoint, top.front().connections);
}

// The endpoint whose stalled readers hold the most unread bytes, if any.
const EndpointObservation* most_stalled(const std::vector<EndpointObservation>& endpoints) {
  const EndpointObservation* worst = nullptr;
  for (const auto& e : endpoints) {
    if (e.stalled_sockets == 0 || e.stalled_unread_bytes == 0) continue;
    if (!worst || e.stalled_unread_bytes > worst->stalled_unread_bytes) worst = &e;
  }
  return worst;
}

// A stalled reader is a finding even on a flat backlog: a pooled connection
// to a stream sits at a full buffer forever. Longer stalls are surer.
double stall_confidence(const EndpointObservation& stalled, const AnalysisConfig& config) {
  return 0.5 + 0.5 * std::min(1.0, stalled.max_stalled_seconds / (4 * config.stall_after_seconds));
}

std::optional<Finding> receive_backlog(const Subject& s) {
  const auto trend = trend_of(s, [](const Observation& o) { return o.receive_queue_bytes; });
  const double min_rate = s.config.min_memory_growth_bytes_per_second;
  const bool growing = grows(trend, min_rate, s.config.min_steadiness);
  const EndpointObservation* stalled = most_stalled(s.latest.endpoints);
  if (!growing && !stalled) return std::nullopt;

  const double slope = trend ? trend->slope : 0;
  const double confidence = std::max(growing ? growth_confidence(*trend, min_rate, s) : 0,
                                     stalled ? stall_confidence(*stalled, s.config) : 0);
  Finding f = make_finding(FindingKind::socket_receive_backlog, s, slope, slope, confidence);
  f.top_contributors = top_contributors(s.latest.endpoints, connections, receive_queue, RankBy::queued_bytes);

  std::string what = growing ? fmt::format("Receive queues grow {}/s", format_bytes(slope))
                             : fmt::format("{} sit unread", format_bytes(static_cast<double>(stalled->stalled_unread_bytes)));
  if (stalled) {
    what += fmt::format(" on {} to {} that the process has not read from for {}", count_of(stalled->stalled_sockets, "connection"),
                        stalled->endpoint, format_duration(stalled->max_stalled_seconds));
  } else if (!f.top_contributors.empty()) {
    const auto& top = f.top_contributors.front();
    what += fmt::format(" on {} to {}", count_of(top.connections, "connection"), top.endpoint);
  }
  describe(f, s, what,
           stalled ? "Close abandoned streaming responses, or stop pooling connections to that endpoint."
                   : "Read as fast as data arrives, or make the sender slow down (flow control, smaller batches).");
  return f;
}

std::optional<Finding> send_backlog(const Subject& s) {
  const auto trend = trend_of(s, [](const Observation& o) { return o.send_queue_bytes; });
  const double min_rate = s.config.min_memory_growth_bytes_per_second;
  if (!grows(trend, min_rate, s.config.min_steadiness)) return std::nullopt;

  Finding f = make_finding(FindingKind::socket_send_backlog, s, trend->slope, trend->slope, growth_confidence(*trend, min_rate, s));
  f.top_contributors = top_contributors(s.latest.endpoints, connections, send_queue, RankBy::queued_bytes);
  std::string what = fmt::format("Send queues grow {}/s", format_bytes(trend->slope));
  if (!f.top_contributors.empty()) {
    const auto& top = f.top_contributors.front();
    what += fmt::format(", most on {} to {} that hold {} the peer has not taken", count_of(top.connections, "connection"),
                        top.endpoint, format_bytes(static_cast<double>(top.queued_bytes)));
  }
  describe(f, s, what, "Bound per-client send buffers and drop or disconnect slow consumers.");
  return f;
}

// The memory that open connections hold: their queues.
double queue_slope(const Subject& s) {
  const auto t = trend_of(s, [](const Observation& o) { return o.receive_queue_bytes + o.send_queue_bytes; });
  return t ? t->slope : 0;
}

// CLOSE_WAIT sockets that never go away are a leak even when their number
// grows too slowly for a trend: at least this many, and not one closed over
// the whole window (the count never steps down).
bool close_wait_held(const Series& series) {
  constexpr double many = 10;
  if (series.y.empty() || series.y.back() < many) return false;
  return std::is_sorted(series.y.begin(), series.y.end());
}

struct ConnectionTrends {
  Series close_wait_series;
  std::optional<Trend> connections, close_wait;
  bool connections_grow = false;
  bool explained_by_close_wait = false;  // most new connections are in CLOSE_WAIT
};

ConnectionTrends connection_trends(const Subject& s) {
  ConnectionTrends c;
  c.close_wait_series = series_of(s.samples, [](const Observation& o) { return o.close_wait; });
  c.close_wait = fit_trend(c.close_wait_series);
  c.connections = trend_of(s, [](const Observation& o) { return o.tcp_connections; });
  c.connections_grow = count_grows(c.connections, s.config);
  c.explained_by_close_wait = c.connections_grow && c.close_wait && c.close_wait->slope >= c.connections->slope / 2;
  return c;
}

std::optional<Finding> connection_leak(const Subject& s, const ConnectionTrends& c) {
  if (!c.connections_grow || c.explained_by_close_wait) return std::nullopt;
  const double min_rate = s.config.min_count_growth_per_second;
  Finding f = make_finding(FindingKind::connection_leak, s, c.connections->slope, queue_slope(s),
                           growth_confidence(*c.connections, min_rate, s));
  f.top_contributors = top_contributors(s.latest.endpoints, connections, queues, RankBy::count);
  describe(f, s,
           fmt::format("Open TCP connections grow by {} to {:.0f} now{}", per_minute(c.connections->slope),
                       s.latest.tcp_connections, leading_endpoint(f.top_contributors)),
           "Close connections when done; check connection pools and WebSocket cleanup.");
  return f;
}

std::optional<Finding> close_wait_leak(const Subject& s, const ConnectionTrends& c) {
  const double min_rate = s.config.min_count_growth_per_second;
  const bool growing = count_grows(c.close_wait, s.config);
  const bool held = close_wait_held(c.close_wait_series);
  if (!growing && !held && !c.explained_by_close_wait) return std::nullopt;

  // A held count is certain but not urgent; it stays a warning.
  constexpr double held_confidence = 0.6;
  const double confidence = std::max(growing ? growth_confidence(*c.close_wait, min_rate, s) : 0,
                                     held || c.explained_by_close_wait ? held_confidence : 0);
  const double slope = c.close_wait ? c.close_wait->slope : 0;
  Finding f = make_finding(FindingKind::close_wait_leak, s, slope, queue_slope(s), confidence);
  f.top_contributors = top_contributors(s.latest.endpoints, close_waits, queues, RankBy::count);
  describe(f, s,
           fmt::format("{} sit in CLOSE_WAIT (growing by {}): the peers closed them, the process never did{}",
                       count_of(static_cast<uint64_t>(s.latest.close_wait), "connection"), per_minute(slope),
                       leading_endpoint(f.top_contributors)),
           "Call close() when a read returns EOF.");
  return f;
}

std::optional<Finding> heap_growth(const Subject& s) {
  const auto anon = trend_of(s, [](const Observation& o) { return o.rss_anon; });
  const double min_rate = s.config.min_memory_growth_bytes_per_second;
  if (!grows(anon, min_rate, s.config.min_steadiness)) return std::nullopt;
  // Heap growth is the verdict only when sockets do not explain it.
  constexpr double most = 0.5, small_next_to_anon = 0.25;
  Finding f = make_finding(FindingKind::heap_growth, s, anon->slope, anon->slope, growth_confidence(*anon, min_rate, s));
  if (f.share_of_growth < most || queue_slope(s) >= small_next_to_anon * anon->slope) return std::nullopt;
  describe(f, s,
           fmt::format("Anonymous memory grows {}/s ({:.0f}% of the footprint's growth) while socket queues stay flat",
                       format_bytes(anon->slope), 100 * f.share_of_growth),
           "Look for unbounded caches or dicts with a heap profiler; sockets are not the cause.");
  return f;
}

std::optional<Finding> fd_leak(const Subject& s) {
  const auto other_fds = [](const Observation& o) -> std::optional<double> {
    if (!o.open_fds) return std::nullopt;
    return *o.open_fds - o.socket_fds;
  };
  const Series series = series_of(s.samples, other_fds);
  const auto trend = fit_trend(series);
  const double min_rate = s.config.min_count_growth_per_second;
  if (!count_grows(trend, s.config)) return std::nullopt;
  // File descriptors hold kernel memory outside the footprint: no share.
  Finding f = make_finding(FindingKind::fd_leak, s, trend->slope, 0, growth_confidence(*trend, min_rate, s));
  describe(f, s, fmt::format("Non-socket file descriptors grow by {} to {:.0f} now", per_minute(trend->slope), series.y.back()),
           "Close files and pipes; check what stays open with ls -l /proc/PID/fd.");
  return f;
}

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
  const ConnectionTrends connection = connection_trends(subject);
  std::vector<Finding> found;
  for (auto f : {receive_backlog(subject), send_backlog(subject), connection_leak(subject, connection),
                 close_wait_leak(subject, connection), heap_growth(subject), fd_leak(subject)}) {
    if (f) found.push_back(std::move(*f));
  }
  std::stable_sort(found.begin(), found.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.severity, a.share_of_growth) > std::tie(b.severity, b.share_of_growth);
  });
  return found;
}

void ReadPositionTracker::update(double time, const std::vector<Socket>& sockets, double stall_after_seconds,
                                 std::vector<EndpointObservation>& endpoints) {
  std::map<std::string_view, EndpointObservation*> by_name;
  for (auto& e : endpoints) {
    e.stalled_sockets = 0;
    e.stalled_unread_bytes = 0;
    e.max_stalled_seconds = 0;
    by_name.emplace(e.endpoint, &e);
  }
  std::set<uint64_t> seen;
  for (const auto& s : sockets) {
    seen.insert(s.inode);
    Position& p = positions_.try_emplace(s.inode, Position{s.copied_seq, time}).first->second;
    // The clock starts when there is something to read and the reader does
    // not take it: an idle socket with nothing unread is not stalled.
    if (p.copied_seq != s.copied_seq || s.unread_bytes == 0) p = Position{s.copied_seq, time};
    const double still = time - p.since;
    if (s.unread_bytes == 0 || still < stall_after_seconds) continue;
    if (auto e = by_name.find(s.endpoint); e != by_name.end()) {
      e->second->stalled_sockets++;
      e->second->stalled_unread_bytes += s.unread_bytes;
      e->second->max_stalled_seconds = std::max(e->second->max_stalled_seconds, still);
    }
  }
  std::erase_if(positions_, [&](const auto& entry) { return !seen.contains(entry.first); });
}

}  // namespace lw
