#include "util/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include <nlohmann/json.hpp>

#include "util/json_text.h"

namespace lw::log {
namespace {

std::atomic<Level> g_min_level{Level::warn};
std::atomic<Format> g_format{Format::text};
std::mutex g_write_mutex;

std::string_view level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warning";
    case Level::error: return "error";
  }
  return "unknown";
}

std::string json_line(Level level, std::string_view message, const nlohmann::ordered_json& fields = {}) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  nlohmann::ordered_json line = {
      {"ts", std::chrono::duration<double>(now).count()},
      {"level", level_name(level)},
      {"msg", message},
  };
  if (fields.is_object()) line.update(fields);
  return json_text(line);
}

std::string text_fields(const nlohmann::ordered_json& fields) {
  std::string out;
  if (!fields.is_object()) return out;
  for (const auto& [key, value] : fields.items()) {
    out += fmt::format(" {}={}", key, value.is_string() ? value.get<std::string>() : json_text(value));
  }
  return out;
}

void emit(const std::string& line) {
  std::lock_guard lock(g_write_mutex);
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace

void configure(Level min_level, Format format) {
  g_min_level = min_level;
  g_format = format;
}

bool enabled(Level level) { return level >= g_min_level.load(); }

void write(Level level, std::string_view message) {
  // Messages from libbpf end in a newline; our lines add their own.
  while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  emit(g_format == Format::json ? json_line(level, message)
                                : fmt::format("leakwatch: {}: {}", level_name(level), message));
}

void event(Level level, std::string_view message, const nlohmann::ordered_json& fields) {
  if (!enabled(level)) return;
  emit(g_format == Format::json ? json_line(level, message, fields)
                                : fmt::format("leakwatch: {}: {}{}", level_name(level), message, text_fields(fields)));
}

}  // namespace lw::log
