#include "collect/socket_owners.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string_view>

#include "collect/procfs.h"
#include "util/error.h"

namespace lw {
namespace {

// "socket:[12345]" -> 12345.
std::optional<uint64_t> socket_inode(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (!link.starts_with(kPrefix) || !link.ends_with(']')) return std::nullopt;
  uint64_t inode = 0;
  const char* first = link.data() + kPrefix.size();
  const char* last = link.data() + link.size() - 1;
  const auto [end, ec] = std::from_chars(first, last, inode);
  if (ec != std::errc() || end != last) return std::nullopt;
  return inode;
}

std::optional<uint32_t> fd_number(std::string_view name) {
  uint32_t fd = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), fd);
  if (ec != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return fd;
}

// readlinkat() relative to the open directory: one lookup per descriptor,
// not a whole path walk.
std::vector<SocketFd> socket_fds_in(const std::filesystem::path& fd_dir) {
  std::vector<SocketFd> fds;
  const int raw = open(fd_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0 && (errno == EACCES || errno == EPERM)) {
    throw Error(ErrorKind::no_privilege,
                fmt::format("cannot read {}: reading another user's sockets takes root (or CAP_SYS_PTRACE and "
                            "CAP_DAC_READ_SEARCH)",
                            fd_dir.string()),
                errno);
  }
  if (raw < 0) return fds;
  DIR* dir = fdopendir(raw);
  if (!dir) {
    close(raw);
    return fds;
  }
  char link[64];
  while (const dirent* entry = readdir(dir)) {
    const auto fd = fd_number(entry->d_name);
    if (!fd) continue;
    const ssize_t n = readlinkat(dirfd(dir), entry->d_name, link, sizeof(link));
    if (n <= 0 || static_cast<size_t>(n) == sizeof(link)) continue;
    if (const auto inode = socket_inode({link, static_cast<size_t>(n)})) fds.push_back({*fd, *inode});
  }
  closedir(dir);
  std::ranges::sort(fds, {}, &SocketFd::fd);
  return fds;
}

}  // namespace

std::vector<SocketFd> socket_fds_of(const HostPaths& paths, pid_t pid) {
  const auto process = paths.proc / std::to_string(pid);
  auto fds = socket_fds_in(process / "fd");
  const auto stat = read_stat(paths, pid);
  if (!fds.empty() || !stat || stat->state != 'Z') return fds;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(process / "task", ec)) {
    if (task.path().filename() == std::to_string(pid)) continue;
    fds = socket_fds_in(task.path() / "fd");
    if (!fds.empty()) break;
  }
  return fds;
}

std::optional<uint64_t> network_namespace_of(const HostPaths& paths, pid_t pid) {
  struct stat st {};
  if (stat((paths.proc / std::to_string(pid) / "ns/net").c_str(), &st) != 0) return std::nullopt;
  return st.st_ino;
}

std::optional<uint64_t> own_network_namespace() {
  struct stat st {};
  if (stat("/proc/self/ns/net", &st) != 0) return std::nullopt;
  return st.st_ino;
}

}  // namespace lw
