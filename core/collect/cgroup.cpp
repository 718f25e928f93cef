#include "collect/cgroup.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <system_error>

#include "util/text_parse.h"

namespace lw {
namespace {

using text::trim;

bool file_exists(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

bool directory_exists(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_directory(path, error);
}

// Cgroup paths are absolute ("/a/b"); appending one to a path would replace
// it instead of descending into it.
std::filesystem::path join(const std::filesystem::path& root, std::string_view cgroup_path) {
  const auto relative = cgroup_path.find_first_not_of('/');
  if (relative == std::string_view::npos) return root;
  return root / cgroup_path.substr(relative);
}

// A path that starts with ".." is relative to the reader's cgroup namespace
// (CgroupNamespace rewrites it when it can): below the host's mount it
// would name some other directory, or none.
std::optional<CgroupLocation> existing(CgroupVersion version, const std::string& path,
                                       std::filesystem::path directory) {
  if (path.starts_with("/..") || !directory_exists(directory)) return std::nullopt;
  return CgroupLocation{.version = version, .path = path, .directory = std::move(directory)};
}

std::optional<CgroupLocation> locate_v2(const HostPaths& paths, const std::vector<CgroupMembership>& memberships) {
  const auto line = std::ranges::find_if(memberships, &CgroupMembership::is_unified);
  if (line == memberships.end()) return std::nullopt;
  const auto root = unified_hierarchy(paths);
  if (!root) return std::nullopt;
  return existing(CgroupVersion::v2, line->path, join(*root, line->path));
}

std::optional<std::map<std::string, uint64_t>> read_memory_stat(const std::filesystem::path& file) {
  const auto text = read_text_file(file);
  if (!text) return std::nullopt;
  return parse_memory_stat(*text);
}

std::optional<uint64_t> read_counter(const std::filesystem::path& file) {
  const auto text = read_text_file(file);
  if (!text) return std::nullopt;
  return parse_counter(*text);
}

std::optional<uint64_t> stat_field(const std::optional<std::map<std::string, uint64_t>>& stat, const std::string& key) {
  if (!stat) return std::nullopt;
  const auto it = stat->find(key);
  if (it == stat->end()) return std::nullopt;
  return it->second;
}

std::optional<uint64_t> first_of(std::optional<uint64_t> preferred, std::optional<uint64_t> fallback) {
  return preferred ? preferred : fallback;
}

void read_v2(const std::filesystem::path& directory, CgroupMemory& memory) {
  memory.usage = read_counter(directory / "memory.current");
  if (const auto text = read_text_file(directory / "memory.max")) memory.limit = parse_limit(*text);
  const auto stat = read_memory_stat(directory / "memory.stat");
  memory.anon = stat_field(stat, "anon");
  memory.file = stat_field(stat, "file");
  memory.sock = stat_field(stat, "sock");
}

// v1 charges TCP memory to a cgroup only after a kmem.tcp limit has been
// written to it; until then the usage file reads 0 whatever the sockets
// hold. A 0 under no limit therefore means "not accounted", not "none".
std::optional<uint64_t> read_v1_tcp_memory(const std::filesystem::path& directory) {
  const auto usage = read_counter(directory / "memory.kmem.tcp.usage_in_bytes");
  if (!usage || *usage > 0) return usage;
  const auto limit_text = read_text_file(directory / "memory.kmem.tcp.limit_in_bytes");
  const auto limit = limit_text ? parse_limit(*limit_text) : std::nullopt;
  if (limit && limit->bytes) return usage;
  return std::nullopt;
}

void read_v1(const std::filesystem::path& directory, CgroupMemory& memory) {
  memory.usage = read_counter(directory / "memory.usage_in_bytes");
  if (const auto text = read_text_file(directory / "memory.limit_in_bytes")) {
    memory.limit = parse_limit(*text);
  }
  memory.sock = read_v1_tcp_memory(directory);
  // usage_in_bytes counts descendants too; in v1 only the total_* fields of
  // memory.stat do, so prefer them to keep anon/file comparable with usage.
  const auto stat = read_memory_stat(directory / "memory.stat");
  memory.anon = first_of(stat_field(stat, "total_rss"), stat_field(stat, "rss"));
  memory.file = first_of(stat_field(stat, "total_cache"), stat_field(stat, "cache"));
}

}  // namespace

std::map<std::string, uint64_t> parse_memory_stat(std::string_view text) {
  std::map<std::string, uint64_t> fields;
  while (!text.empty()) {
    const auto end = std::min(text.find('\n'), text.size());
    const auto line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));

    const auto space = line.find(' ');
    if (space == 0 || space == std::string_view::npos) continue;
    if (const auto value = parse_counter(line.substr(space + 1))) {
      fields.emplace(line.substr(0, space), *value);
    }
  }
  return fields;
}

std::optional<uint64_t> parse_counter(std::string_view text) { return text::parse_integer<uint64_t>(trim(text)); }

std::optional<MemoryLimit> parse_limit(std::string_view text) {
  if (trim(text) == "max") return MemoryLimit{};
  const auto bytes = parse_counter(text);
  if (!bytes) return std::nullopt;
  constexpr uint64_t kNoLimitV1 = uint64_t{1} << 62;
  if (*bytes >= kNoLimitV1) return MemoryLimit{};
  return MemoryLimit{bytes};
}

std::optional<CgroupLocation> locate_memory_cgroup(const HostPaths& paths,
                                                   const std::vector<CgroupMembership>& memberships) {
  // Where a v1 memory hierarchy is mounted it is the one that accounts memory;
  // the unified hierarchy beside it has no memory controller.
  const auto v1_hierarchy = paths.cgroup / "memory";
  const auto v1_line =
      std::ranges::find_if(memberships, [](const auto& membership) { return membership.lists("memory"); });
  if (v1_line != memberships.end() && directory_exists(v1_hierarchy)) {
    return existing(CgroupVersion::v1, v1_line->path, join(v1_hierarchy, v1_line->path));
  }
  return locate_v2(paths, memberships);
}

CgroupMemory read_cgroup_memory(const CgroupLocation& location) {
  CgroupMemory memory;
  memory.version = location.version;
  memory.path = location.path;
  if (location.version == CgroupVersion::v2) {
    read_v2(location.directory, memory);
  } else {
    read_v1(location.directory, memory);
  }
  return memory;
}

std::optional<std::filesystem::path> unified_hierarchy(const HostPaths& paths) {
  // Hybrid hosts mount the unified hierarchy below the v1 ones.
  for (const auto& root : {paths.cgroup, paths.cgroup / "unified"}) {
    if (file_exists(root / "cgroup.controllers")) return root;
  }
  return std::nullopt;
}

std::optional<uint64_t> cgroup_v2_id(const HostPaths& paths, const std::vector<CgroupMembership>& memberships) {
  const auto location = locate_v2(paths, memberships);
  if (!location) return std::nullopt;
  struct stat st {};
  if (::stat(location->directory.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace lw
