// The memory cgroup files, v1 and v2 (memory.stat, memory.current,
// memory.max, memory.usage_in_bytes, memory.limit_in_bytes...): never
// throws; a counter is a plain decimal number and prints back to itself; a
// limit is a number below the v1 "no limit" sentinel or none; memory.stat
// fields written back as "key value" lines parse the same.
#include <cctype>
#include <string>

#include <fmt/format.h>

#include "collect/cgroup.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = lw::fuzz::as_text(data, size);

  const auto counter = lw::parse_counter(text);
  if (counter) LW_FUZZ_CHECK(lw::parse_counter(fmt::format("{}\n", *counter)) == counter);

  const auto limit = lw::parse_limit(text);
  if (limit && limit->bytes) {
    LW_FUZZ_CHECK(*limit->bytes < (uint64_t{1} << 62));
    LW_FUZZ_CHECK(limit->bytes == counter);
  }
  if (counter) LW_FUZZ_CHECK(limit.has_value());

  const auto fields = lw::parse_memory_stat(text);
  std::string written;
  for (const auto& [key, value] : fields) {
    LW_FUZZ_CHECK(!key.empty() && key.find_first_of(" \n") == std::string::npos);
    written += fmt::format("{} {}\n", key, value);
  }
  LW_FUZZ_CHECK(lw::parse_memory_stat(written) == fields);
  return 0;
}
