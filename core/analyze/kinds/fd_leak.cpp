// fd-leak: file descriptors other than sockets keep growing.
#include <fmt/format.h>

#include "analyze/finding_kinds.h"
#include "analyze/finding_text.h"

namespace lw {

std::optional<Finding> detect_fd_leak(const Subject& s) {
  const auto other_fds = [](const Observation& o) -> std::optional<double> {
    if (!o.open_fds) return std::nullopt;
    return *o.open_fds - o.socket_fds;
  };
  const Series series = series_of(s.samples, other_fds);
  const auto trend = fit_trend(series, earlier_peak(s, other_fds));
  const double min_rate = s.config.min_count_growth_per_second;
  if (!count_grows(trend, s.config)) return std::nullopt;
  // File descriptors hold kernel memory outside the footprint: no share.
  Finding f = make_finding(FindingKind::fd_leak, s, trend->slope, 0, growth_confidence(*trend, min_rate, s));
  describe(f, s,
           fmt::format("Non-socket file descriptors grow by {} to {:.0f} now", per_minute(trend->slope),
                       other_fds(s.latest).value_or(series.y.back())),
           "Close files and pipes; check what stays open with ls -l /proc/PID/fd.");
  return f;
}

}  // namespace lw
