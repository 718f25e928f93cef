// One logger for the library, the CLI and the agent: text for people, JSON
// lines for log pipelines. Writes to stderr so stdout stays machine-readable.
#pragma once

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <string_view>
#include <utility>

namespace lw::log {

enum class Level { debug, info, warn, error };
enum class Format { text, json };

void configure(Level min_level, Format format);
bool enabled(Level level);
void write(Level level, std::string_view message);
// A structured event: in JSON, the fields join "ts", "level" and "msg" at
// the top level; in text, they follow the message as key=value.
void event(Level level, std::string_view message, const nlohmann::ordered_json& fields);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::warn)) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::error)) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace lw::log
