#include "bench_support.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "run_command.h"

namespace lw::bench {
namespace {

std::string cpuinfo_field(const std::string& prefix) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

// A "VmRSS:"-like line of /proc/PID/status, in MiB; 0 when the process is gone.
double status_mib(pid_t pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(field)) return std::stod(line.substr(field.size())) / 1024.0;
  }
  return 0;
}

}  // namespace

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double time_command(const std::vector<std::string>& argv) {
  const auto start = Clock::now();
  const auto result = test::run_command(argv, test::Output::discard);
  if (result.exit_code != 0)
    throw std::runtime_error(fmt::format("{} failed with status {}", argv[0], result.exit_code));
  return ms_since(start);
}

double Series::median() const {
  auto sorted = values;
  std::sort(sorted.begin(), sorted.end());
  return sorted[sorted.size() / 2];
}

double Series::min() const { return *std::min_element(values.begin(), values.end()); }

double rss_mib(pid_t pid) { return status_mib(pid, "VmRSS:"); }

double peak_rss_mib(pid_t pid) { return status_mib(pid, "VmHWM:"); }

std::string machine_description() {
  utsname u{};
  uname(&u);
  return fmt::format("{} cores, {}, kernel {} {}", sysconf(_SC_NPROCESSORS_ONLN), cpuinfo_field("model name"),
                     u.release, u.machine);
}

}  // namespace lw::bench
