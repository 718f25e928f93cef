// Numbers for people: binary units for bytes, short forms for durations.
// One set for the CLI's reports and the findings' sentences, so a size reads
// the same wherever it is shown.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>

namespace lw {

// "0 B", "512 B", "1.5 KiB", "12.3 MiB", "2.0 GiB"; rates may be negative.
std::string human_bytes(double bytes);
template <std::unsigned_integral T>
std::string human_bytes(T bytes) {
  return human_bytes(static_cast<double>(bytes));
}
// human_bytes, or "unknown".
std::string human_bytes(const std::optional<uint64_t>& bytes);
// "0.4s", "12s", "3m05s", "2h01m", "3d04h".
std::string human_duration_ms(uint64_t ms);
std::string human_duration(double seconds);
// "41 minutes", "3 hours": a forecast should not look more precise than it is.
std::string rough_duration(double seconds);
// "37%" of a whole; "-" when the whole is 0.
std::string percent(uint64_t part, uint64_t whole);

}  // namespace lw
