// The agent's TOML config file, read by CLI11's TOML reader exactly as
// --config FILE is (parse_agent_config_text), and the durations in it
// (parse_duration). Throws nothing but lw::Error(usage); a config it accepts
// holds only values the checks allow; a parsed duration is at least 1 ms and
// parses back from its millisecond count.
#include <bit>
#include <string>
#include <variant>

#include "agent_config.h"
#include "flags/shared_flags.h"
#include "fuzz_check.h"
#include "util/error.h"

namespace {

void check_config(const lw::AgentConfig& config) {
  LW_FUZZ_CHECK(config.interval >= std::chrono::milliseconds(100));
  LW_FUZZ_CHECK(config.top_processes >= 1 && config.top_endpoints >= 1);
  LW_FUZZ_CHECK(config.ring_buffer_bytes >= 4096 && config.ring_buffer_bytes <= (size_t{1} << 30) &&
                std::has_single_bit(config.ring_buffer_bytes));
  for (const pid_t pid : config.pids) LW_FUZZ_CHECK(pid > 0);
  LW_FUZZ_CHECK(config.analysis.window_seconds > 0 && config.analysis.stall_after_seconds > 0);
  const std::string& url = config.alertmanager.url;
  LW_FUZZ_CHECK(url.empty() || ((url.starts_with("http://") || url.starts_with("https://")) && !url.ends_with('/') &&
                                url.find('@') == std::string::npos));
  LW_FUZZ_CHECK(config.listen_address.find(':') != std::string::npos);
}

void check_duration(std::string_view text) {
  const auto duration = lw::parse_duration(text);
  if (!duration) return;
  LW_FUZZ_CHECK(duration->count() >= 1);
  LW_FUZZ_CHECK(lw::parse_duration(std::to_string(duration->count()) + "ms") == duration);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = lw::fuzz::as_text(data, size);
  check_duration(text);
  try {
    const auto result = lw::parse_agent_config_text(text);
    if (const auto* config = std::get_if<lw::AgentConfig>(&result)) check_config(*config);
  } catch (const lw::Error& error) {
    LW_FUZZ_CHECK(error.kind() == lw::ErrorKind::usage);
  }
  return 0;
}
