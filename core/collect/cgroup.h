// Memory accounting of a process's memory cgroup, v1 or v2. Every field is
// optional: hosts differ in what they expose, and unknown is not 0.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/host_paths.h"
#include "collect/procfs.h"

namespace lw {

enum class CgroupVersion { v1, v2 };

// A memory limit: a number of bytes, or none set.
struct MemoryLimit {
  std::optional<uint64_t> bytes;  // nullopt: no limit ("max" or the v1 sentinel)
};

struct CgroupMemory {
  CgroupVersion version = CgroupVersion::v2;
  std::string path;                  // the cgroup path as /proc/PID/cgroup shows it
  std::optional<uint64_t> usage;     // memory.current | memory.usage_in_bytes
  std::optional<MemoryLimit> limit;  // memory.max | memory.limit_in_bytes
  std::optional<uint64_t> sock;      // memory.stat sock | memory.kmem.tcp.usage_in_bytes
  std::optional<uint64_t> anon;      // memory.stat anon | rss (v1)
  std::optional<uint64_t> file;      // memory.stat file | cache (v1)
};

// "key value" lines of memory.stat; malformed lines are skipped.
std::map<std::string, uint64_t> parse_memory_stat(std::string_view text);
// A single unsigned number, e.g. memory.current; nullopt on garbage.
std::optional<uint64_t> parse_counter(std::string_view text);
// memory.max ("max" or bytes) or memory.limit_in_bytes (the v1 "no limit"
// value is PAGE_COUNTER_MAX rounded to pages: anything >= 2^62 means none).
std::optional<MemoryLimit> parse_limit(std::string_view text);

// The memory cgroup directory of a process, from its /proc/PID/cgroup lines:
// the v1 "memory" controller hierarchy when the host mounts one, else the v2
// unified hierarchy. nullopt when no mounted hierarchy matches.
struct CgroupLocation {
  CgroupVersion version;
  std::string path;                 // as in /proc/PID/cgroup
  std::filesystem::path directory;  // where its files are under paths.cgroup
};
std::optional<CgroupLocation> locate_memory_cgroup(const HostPaths& paths,
                                                   const std::vector<CgroupMembership>& memberships);

// Where the unified (v2) hierarchy is mounted: the cgroup root itself, or
// its "unified" directory on hybrid hosts. nullopt when neither is.
std::optional<std::filesystem::path> unified_hierarchy(const HostPaths& paths);

// The id of the process's cgroup in the unified (v2) hierarchy, which is
// what the kernel stores in each socket (sk_cgrp_data) even on hosts whose
// memory controller is v1: the inode number of the cgroup's directory.
std::optional<uint64_t> cgroup_v2_id(const HostPaths& paths, const std::vector<CgroupMembership>& memberships);

// Reads the accounting files of one located cgroup; missing files stay unknown.
CgroupMemory read_cgroup_memory(const CgroupLocation& location);

}  // namespace lw
