// /proc/PID/cgroup (parse_cgroup_file): never throws; every membership it
// keeps is well formed (absolute path, non-empty controller names), and the
// memberships written back as "id:controllers:path" lines parse the same.
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "collect/procfs.h"
#include "fuzz_check.h"

namespace {

bool same(const lw::CgroupMembership& a, const lw::CgroupMembership& b) {
  return a.hierarchy_id == b.hierarchy_id && a.controllers == b.controllers && a.path == b.path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto memberships = lw::parse_cgroup_file(lw::fuzz::as_text(data, size));
  std::string written;
  for (const auto& m : memberships) {
    LW_FUZZ_CHECK(m.hierarchy_id >= 0);
    LW_FUZZ_CHECK(m.path.starts_with('/') && m.path.find('\n') == std::string::npos);
    for (const auto& controller : m.controllers) {
      LW_FUZZ_CHECK(!controller.empty() && controller.find_first_of(",:\n") == std::string::npos);
    }
    LW_FUZZ_CHECK(m.is_unified() == (m.hierarchy_id == 0 && m.controllers.empty()));
    written += fmt::format("{}:{}:{}\n", m.hierarchy_id, fmt::join(m.controllers, ","), m.path);
  }
  const auto again = lw::parse_cgroup_file(written);
  LW_FUZZ_CHECK(again.size() == memberships.size());
  for (size_t i = 0; i < again.size(); ++i) LW_FUZZ_CHECK(same(again[i], memberships[i]));
  return 0;
}
