// Cgroup paths as the host names them. A reader in a cgroup namespace of its
// own (a container on cgroup v2, by default) sees every other process's
// cgroup relative to its own: "/../../kubepods.slice/...". Such a path
// names neither a directory under the host's cgroup mount nor the cgroup
// the way the rest of the node does, so the sampler rewrites it first.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "collect/host_paths.h"
#include "collect/procfs.h"

namespace lw {

// Where the reader's namespace is rooted in one hierarchy.
struct NamespaceRoot {
  bool found = true;       // false: the reader is in a namespace whose root could not be found
  std::string path = "/";  // host path of the root; "/" in the host's namespace
};

class CgroupNamespace {
 public:
  // The host's namespace: nothing is rewritten.
  CgroupNamespace() = default;
  // Where the namespace of process `self` is rooted in the unified and the
  // v1 memory hierarchies. Host init's cgroup, as `self` sees it, says how
  // deep the root is ("/../.." is two levels); the directory at that depth
  // whose cgroup.procs lists `self` is the root. Done once, at start.
  static CgroupNamespace discover(const HostPaths& paths, pid_t self);

  // Rewrites the unified and memory lines of /proc/PID/cgroup to host paths.
  void to_host_paths(std::vector<CgroupMembership>& memberships) const;

  const NamespaceRoot& unified() const { return unified_; }
  const NamespaceRoot& memory() const { return memory_; }

 private:
  NamespaceRoot unified_;
  NamespaceRoot memory_;
};

// Pure: `path` as seen from a namespace rooted at `root` ("/a/b"), as the
// host names it: host_cgroup_path("/a/b", "/../c") is "/a/c".
std::string host_cgroup_path(const std::string& root, const std::string& path);

}  // namespace lw
