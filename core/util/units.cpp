#include "util/units.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

namespace lw {

std::string human_bytes(double bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  size_t unit = 0;
  while (std::abs(bytes) >= 1024.0 && unit + 1 < std::size(units)) {
    bytes /= 1024.0;
    ++unit;
  }
  if (unit == 0) return fmt::format("{:.0f} B", bytes);
  return fmt::format("{:.1f} {}", bytes, units[unit]);
}

std::string human_bytes(const std::optional<uint64_t>& bytes) { return bytes ? human_bytes(*bytes) : "unknown"; }

std::string human_duration_ms(uint64_t ms) {
  const uint64_t s = ms / 1000;
  if (s < 10) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

std::string human_duration(double seconds) {
  return human_duration_ms(static_cast<uint64_t>(std::llround(std::max(0.0, seconds) * 1000)));
}

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

std::string percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "-";
  return fmt::format("{:.0f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

}  // namespace lw
