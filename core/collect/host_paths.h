// Where the host's pseudo-filesystems and kubelet logs are. Inside a
// container they are mounted elsewhere (for example /host/proc), so nothing
// hard-codes them.
#pragma once

#include <filesystem>

namespace lw {

struct HostPaths {
  std::filesystem::path proc = "/proc";
  std::filesystem::path cgroup = "/sys/fs/cgroup";
  // The kubelet's log directory (pods/ and containers/), whose names give
  // pod identity; only directory names are read, never a log.
  std::filesystem::path log = "/var/log";
};

// Every path at its usual place below `root`, where a container mounts the
// host's: host_paths_under("/host").proc is /host/proc.
inline HostPaths host_paths_under(const std::filesystem::path& root) {
  return {.proc = root / "proc", .cgroup = root / "sys/fs/cgroup", .log = root / "var/log"};
}

// A --host-proc or --host-cgroup that points at the wrong place would fail
// or empty everything read later, under misleading names ("no process with
// PID 1"); checked at start instead. Throws lw::Error(io) (exit 9) naming
// the path and the flag that sets it.
void require_host_paths(const HostPaths& paths);

}  // namespace lw
