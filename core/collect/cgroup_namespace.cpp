#include "collect/cgroup_namespace.h"

#include <algorithm>
#include <filesystem>
#include <functional>

#include "collect/cgroup.h"
#include "util/text_parse.h"

namespace lw {
namespace {

namespace fs = std::filesystem;

using LineMatcher = std::function<bool(const CgroupMembership&)>;

std::optional<std::string> cgroup_of(const HostPaths& paths, pid_t pid, const LineMatcher& matches) {
  const auto text = read_text_file(paths.proc / std::to_string(pid) / "cgroup");
  if (!text) return std::nullopt;
  for (const auto& m : parse_cgroup_file(*text)) {
    if (matches(m)) return m.path;
  }
  return std::nullopt;
}

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  for (const auto c : text::split(path, '/')) {
    if (!c.empty()) out.push_back(c);
  }
  return out;
}

bool lists_pid(const fs::path& directory, pid_t pid) {
  const auto text = read_text_file(directory / "cgroup.procs");
  if (!text) return false;
  const auto wanted = std::to_string(pid);
  return std::ranges::any_of(text::split(*text, '\n'), [&](std::string_view line) { return line == wanted; });
}

// The directory `depth` levels below `hierarchy` whose cgroup.procs lists
// `pid`, as a cgroup path ("/a/b"); breadth-first, one level at a time.
std::optional<std::string> find_cgroup_of(const fs::path& hierarchy, size_t depth, pid_t pid) {
  std::vector<fs::path> level{hierarchy};
  for (size_t d = 0; d < depth; ++d) {
    std::vector<fs::path> next;
    for (const auto& directory : level) {
      std::error_code error;
      for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
        if (it->is_directory(error)) next.push_back(it->path());
      }
    }
    level = std::move(next);
  }
  for (const auto& directory : level) {
    if (lists_pid(directory, pid)) return "/" + directory.lexically_relative(hierarchy).string();
  }
  return std::nullopt;
}

NamespaceRoot discover_root(const HostPaths& paths, pid_t self, const std::optional<fs::path>& hierarchy,
                            const LineMatcher& matches) {
  const auto init = cgroup_of(paths, 1, matches);
  if (!hierarchy || !init || !init->starts_with("/..")) return {};  // the host's namespace, or no such hierarchy
  const auto init_parts = components(*init);
  const auto depth = static_cast<size_t>(
      std::ranges::find_if(init_parts, [](std::string_view c) { return c != ".."; }) - init_parts.begin());
  const auto own = cgroup_of(paths, self, matches);
  if (!own || own->starts_with("/..")) return {false, ""};
  const auto own_parts = components(*own);
  const auto found = find_cgroup_of(*hierarchy, depth + own_parts.size(), self);
  if (!found) return {false, ""};
  // The root is where `self` is found, less the part of its path inside the namespace.
  auto root_parts = components(*found);
  root_parts.resize(root_parts.size() - own_parts.size());
  std::string root;
  for (const auto c : root_parts) root += "/" + std::string(c);
  return {true, root.empty() ? "/" : root};
}

}  // namespace

std::string host_cgroup_path(const std::string& root, const std::string& path) {
  std::string normal = fs::path(root + path).lexically_normal().string();
  while (normal.size() > 1 && normal.ends_with('/')) normal.pop_back();
  return normal;
}

CgroupNamespace CgroupNamespace::discover(const HostPaths& paths, pid_t self) {
  CgroupNamespace ns;
  ns.unified_ = discover_root(paths, self, unified_hierarchy(paths), &CgroupMembership::is_unified);
  const fs::path memory_v1 = paths.cgroup / "memory";
  std::error_code error;
  const auto memory_hierarchy = fs::is_directory(memory_v1, error) ? std::optional(memory_v1) : std::nullopt;
  const auto is_memory = [](const CgroupMembership& m) { return m.lists("memory"); };
  ns.memory_ = discover_root(paths, self, memory_hierarchy, is_memory);
  return ns;
}

void CgroupNamespace::to_host_paths(std::vector<CgroupMembership>& memberships) const {
  for (auto& m : memberships) {
    const NamespaceRoot& root = m.is_unified() ? unified_ : memory_;
    if (!(m.is_unified() || m.lists("memory")) || !root.found || root.path == "/") continue;
    m.path = host_cgroup_path(root.path, m.path);
  }
}

}  // namespace lw
