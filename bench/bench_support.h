// What the benchmarks share: timing, medians, and a line describing the
// machine the figures come from.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace lw::bench {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start);

// Wall time of a command with its output discarded, as a user would run it.
// Throws when it fails.
double time_command(const std::vector<std::string>& argv);

// Repeated measurements of one thing.
struct Series {
  std::string name;
  std::vector<double> values;
  double median() const;
  double min() const;
};

// A process's resident memory (VmRSS in /proc/PID/status), MiB; 0 when it is gone.
double rss_mib(pid_t pid);
// Its peak resident memory so far (VmHWM): what a memory limit must cover.
double peak_rss_mib(pid_t pid);

// "2 cores, AMD EPYC, kernel 6.18.44 x86_64".
std::string machine_description();

}  // namespace lw::bench
