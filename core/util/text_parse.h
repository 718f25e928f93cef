// Small text helpers shared by the /proc and cgroup parsers. Strict on
// numbers: a truncated or garbled value is rejected, never read as its
// numeric prefix, because unknown must not turn into a wrong number.
#pragma once

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace lw::text {

inline constexpr std::string_view kWhitespace = " \t\n\r";

inline std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

template <typename Integer>
std::optional<Integer> parse_integer(std::string_view text) {
  Integer value{};
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

inline std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(separator, start), text.size());
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

inline std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> words;
  size_t start = text.find_first_not_of(kWhitespace);
  while (start != std::string_view::npos) {
    const auto end = text.find_first_of(kWhitespace, start);
    words.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    start = text.find_first_not_of(kWhitespace, end);
  }
  return words;
}

}  // namespace lw::text
