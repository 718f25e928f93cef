// /proc/PID/stat (parse_stat): never throws; a parsed state is a letter;
// only the fields after the last ')' count, so any other comm (even one
// holding ") (") parses the same; the kernel's trailing newline changes nothing.
#include <cctype>
#include <string>

#include "collect/procfs.h"
#include "fuzz_check.h"

namespace {

bool same(const std::optional<lw::ProcessStat>& a, const std::optional<lw::ProcessStat>& b) {
  if (!a || !b) return !a && !b;
  return a->state == b->state && a->flags == b->flags && a->start_time == b->start_time;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = lw::fuzz::as_text(data, size);
  const auto stat = lw::parse_stat(text);
  LW_FUZZ_CHECK(same(lw::parse_stat(std::string(text) + "\n"), stat));
  if (!stat) return 0;
  LW_FUZZ_CHECK(std::isalpha(static_cast<unsigned char>(stat->state)));

  const auto open = text.find(" (");
  const auto close = text.rfind(')');
  const auto renamed = std::string(text.substr(0, open)) + " (a) (b" + std::string(text.substr(close));
  LW_FUZZ_CHECK(same(lw::parse_stat(renamed), stat));
  return 0;
}
