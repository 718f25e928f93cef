// Numbers for people: binary units for bytes, short forms for durations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lw::cli {

// "0 B", "512 B", "1.5 KiB", "12.3 MiB", "2.0 GiB".
std::string human_bytes(uint64_t bytes);
// human_bytes, or "unknown".
std::string human_bytes(const std::optional<uint64_t>& bytes);
// "0.4s", "12s", "3m05s", "2h01m", "3d04h".
std::string human_duration_ms(uint64_t ms);
// "37%" of a whole; "-" when the whole is 0.
std::string percent(uint64_t part, uint64_t whole);

}  // namespace lw::cli
