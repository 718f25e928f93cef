// Recordings (parse_recording), as `leakwatch analyze FILE` reads them.
// Throws nothing but lw::Error; what it accepts has samples in time order
// and nothing after a process_exited line; written back line by line, it
// parses to the same, field for field.
#include <sstream>
#include <string>

#include "fuzz_check.h"
#include "output/recording.h"
#include "util/error.h"

namespace {

std::string written_back(const lw::Recording& r) {
  std::string text = lw::to_json(r.header).dump() + "\n";
  for (const auto& o : r.samples) text += lw::to_json(o).dump() + "\n";
  if (r.process_exited) text += lw::process_exited_line().dump() + "\n";
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in{std::string(lw::fuzz::as_text(data, size))};
  lw::Recording r;
  try {
    r = lw::parse_recording(in);
  } catch (const lw::Error&) {
    return 0;
  }
  for (size_t i = 1; i < r.samples.size(); ++i) LW_FUZZ_CHECK(r.samples[i].time > r.samples[i - 1].time);
  LW_FUZZ_CHECK(r.header.interval_seconds > 0 && r.header.window_seconds > 0 && r.header.stall_after_seconds > 0);

  const std::string text = written_back(r);
  std::istringstream again_in(text);
  const lw::Recording again = lw::parse_recording(again_in);
  LW_FUZZ_CHECK(!again.cut_short);
  LW_FUZZ_CHECK(written_back(again) == text);
  return 0;
}
