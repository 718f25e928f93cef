// The thresholds every finding is judged by (flags --analysis-window and
// --stall-after set the first and third).
#pragma once

#include <cstddef>

namespace lw {

struct AnalysisConfig {
  double window_seconds = 300;      // samples older than this are dropped
  size_t min_samples = 6;           // fewer: no verdict yet
  double stall_after_seconds = 60;  // a read position still this long is stalled
  // A stalled reader is a finding only once this much sits unread. Below it
  // is what peers leave on idle pooled connections before going quiet, a few
  // control messages (a TLS close_notify is 31 bytes, an HTTP/2 GOAWAY 17 and
  // up), which costs no memory worth a page; 64 KiB is half the kernel's
  // default receive buffer (tcp_rmem's 131,072), a socket's worth of data
  // that stopped being read.
  double min_stalled_unread_bytes = 64 * 1024;
  // A trend must be at least this steep and this steady to be a finding.
  double min_memory_growth_bytes_per_second = 64 * 1024;
  double min_count_growth_per_second = 0.05;  // connections, fds
  // A count must also have risen by this many over the window: more than a
  // busy client's in-flight connections (or their transient CLOSE_WAITs) can
  // ramp up by while it starts.
  double min_count_rise = 10;
  double min_steadiness = 0.6;  // Kendall's tau, clamped: how consistently later samples lie above earlier ones (0..1)
};

}  // namespace lw
