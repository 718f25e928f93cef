#include "collect/host_paths.h"

#include <fmt/format.h>

#include <system_error>

#include "collect/procfs.h"
#include "util/error.h"

namespace lw {

void require_host_paths(const HostPaths& paths) {
  if (!read_text_file(paths.proc / "1" / "stat")) {
    throw Error(ErrorKind::io, fmt::format("cannot read {}: mount the host's /proc there, or point --host-proc "
                                           "(or --host-root) at it",
                                           (paths.proc / "1" / "stat").string()));
  }
  std::error_code error;
  if (!std::filesystem::is_directory(paths.cgroup, error)) {
    throw Error(ErrorKind::io, fmt::format("{} is not a directory: mount the host's /sys/fs/cgroup there, or point "
                                           "--host-cgroup (or --host-root) at it",
                                           paths.cgroup.string()));
  }
}

}  // namespace lw
