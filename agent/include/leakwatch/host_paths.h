// Where the host's pseudo-filesystems are. Inside a container they are
// mounted elsewhere (for example /host/proc), so nothing hard-codes them.
#pragma once

#include <filesystem>

namespace lw {

struct HostPaths {
  std::filesystem::path proc = "/proc";
  std::filesystem::path cgroup = "/sys/fs/cgroup";
};

}  // namespace lw
