// The thresholds every finding is judged by (flags --analysis-window and
// --stall-after set the first and third), and the time scales it looks at.
#pragma once

#include <cstddef>
#include <vector>

namespace lw {

struct AnalysisConfig {
  double window_seconds = 300;  // the shortest window: what a fast leak is judged on
  // Judged as well, when longer than window_seconds: a leak too slow to
  // clear a 5-minute window's floors shows over an hour or a day.
  std::vector<double> longer_windows_seconds = {3600, 86400};
  size_t min_samples = 6;           // fewer: no verdict yet
  double stall_after_seconds = 60;  // a read position still this long is stalled
  // A stalled reader or peer is a finding only once this much waits. Below
  // it is what peers leave on idle pooled connections before going quiet,
  // a few control messages (a TLS close_notify is 31 bytes, an HTTP/2
  // GOAWAY 17 and up), which costs no memory worth a page; 64 KiB is half
  // the kernel's default receive buffer (tcp_rmem's 131,072), a socket's
  // worth of data that stopped being read, or taken.
  double min_stalled_bytes = 64 * 1024;
  // A trend must be at least this steep and this steady to be a finding.
  double min_memory_growth_bytes_per_second = 64 * 1024;
  double min_count_growth_per_second = 0.05;  // connections, fds
  // A count must also have risen by this many over the window: more than a
  // busy client's in-flight connections (or their transient CLOSE_WAITs) can
  // ramp up by while it starts.
  double min_count_rise = 10;
  // A longer window lowers the two rate floors above in proportion to the
  // time it covers (the same total rise, over more time, is as sure a
  // sign), but never below these: 16 KiB/s is 1.3 GiB a day, enough to
  // take a typical 1-2 GiB container to its limit within a day or two;
  // one connection every two minutes is 720 a day, more than a service's
  // file-descriptor headroom under common 1,024 limits.
  double min_slow_memory_growth_bytes_per_second = 16 * 1024;
  double min_slow_count_growth_per_second = 1.0 / 120;
  double min_steadiness = 0.6;  // Kendall's tau, clamped: how consistently later samples lie above earlier ones (0..1)
};

// The windows a subject is judged over, shortest first: window_seconds,
// then each longer one that is longer.
std::vector<double> window_spans(const AnalysisConfig& config);

// The thresholds for a window whose samples cover `covered_seconds`.
AnalysisConfig thresholds_for(const AnalysisConfig& config, double covered_seconds);

}  // namespace lw
