#include "leakwatch/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include <nlohmann/json.hpp>

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

std::string json_line(Level level, std::string_view message) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  nlohmann::json line = {
      {"ts", std::chrono::duration<double>(now).count()},
      {"level", level_name(level)},
      {"msg", message},
  };
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
  const std::string line = g_format == Format::json
                               ? json_line(level, message)
                               : fmt::format("leakwatch: {}: {}", level_name(level), message);
  std::lock_guard lock(g_write_mutex);
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace lw::log
