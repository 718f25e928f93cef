// listen-backlog: connections wait in a listener's accept queue sample after
// sample: the process accepts more slowly than clients connect (the classic
// "too few gunicorn workers"). A healthy server empties its queue within
// milliseconds, so at any sampling instant it is nearly always empty.
#include <algorithm>

#include <fmt/format.h>

#include "analyze/finding_kinds.h"
#include "analyze/finding_text.h"
#include "util/units.h"

namespace lw {
namespace {

// Fewer waiting connections than this are a burst being served, not a
// shortage: a busy server catches a handful in its queue now and then.
constexpr double kMinWaiting = 10;

std::optional<double> waiting_on(const Observation& o, const std::string& listener) {
  for (const auto& q : o.listeners) {
    if (listener_name(q) == listener) return static_cast<double>(q.waiting);
  }
  return std::nullopt;  // the listener was not there: no point, not a 0
}

}  // namespace

std::optional<Finding> detect_listen_backlog(const Subject& s) {
  if (s.latest.listeners.empty()) return std::nullopt;
  const ListenerQueue& fullest = s.latest.listeners.front();
  const std::string listener = listener_name(fullest);
  const Series series = series_of(s.samples, [&](const Observation& o) { return waiting_on(o, listener); });
  // Held: connections waited in every sample of the window's later half.
  const double from = series.t.back() - (series.t.back() - series.t.front()) / 2;
  double least = fullest.waiting;
  size_t held_samples = 0;
  for (size_t i = 0; i < series.t.size(); ++i) {
    if (series.t[i] < from) continue;
    least = std::min(least, series.y[i]);
    held_samples++;
  }
  constexpr size_t min_held_samples = 3;
  if (least < kMinWaiting || held_samples < min_held_samples) return std::nullopt;

  // A full queue turns new connections away: that is certain harm, not a
  // hint. TCP drops their SYNs; a unix connect() blocks or fails with
  // EAGAIN (nginx: "connect() to unix:... failed (11: Resource temporarily
  // unavailable)").
  const bool full = fullest.limit > 0 && fullest.waiting >= fullest.limit;
  const bool unix_socket = !fullest.path.empty();
  const auto trend = fit_trend(series);
  Finding f = make_finding(FindingKind::listen_backlog, s, trend ? trend->slope : 0, 0, full ? 0.9 : 0.6);
  f.top_contributors = {{listener, fullest.waiting, 0, std::nullopt}};
  const std::string_view refused =
      unix_socket ? ", full: new connections block or fail with EAGAIN" : ", full: new connections are dropped";
  describe(f, s,
           fmt::format("{} wait to be accepted on {} {} (queue limit {}{}), at least {:.0f} in every sample for {}",
                       quantity(fullest.waiting, "connection"), unix_socket ? "unix socket" : "port",
                       unix_socket ? fullest.path : std::to_string(fullest.port), fullest.limit, full ? refused : "",
                       least, human_duration(series.t.back() - from)),
           "Add workers or threads, or find what blocks the accept loop (a slow handler, a lock).");
  return f;
}

}  // namespace lw
