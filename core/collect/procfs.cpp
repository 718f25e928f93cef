#include "collect/procfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <limits>
#include <string>
#include <system_error>

#include "util/error.h"
#include "util/owned_fd.h"
#include "util/text_parse.h"

namespace lw {
namespace {

using text::parse_integer;
using text::split;
using text::split_whitespace;
using text::trim;

// "   1724 kB" -> bytes. The unit is required: a line cut before it may also
// have lost digits.
std::optional<uint64_t> parse_kilobytes(std::string_view value) {
  const auto words = split_whitespace(value);
  if (words.size() != 2 || words[1] != "kB") return std::nullopt;
  const auto kilobytes = parse_integer<uint64_t>(words[0]);
  if (!kilobytes || *kilobytes > std::numeric_limits<uint64_t>::max() / 1024) return std::nullopt;
  return *kilobytes * 1024;
}

std::optional<char> parse_state_letter(std::string_view value) {
  const auto words = split_whitespace(value);
  if (words.empty() || !std::isalpha(static_cast<unsigned char>(words[0][0]))) return std::nullopt;
  return words[0][0];
}

std::optional<pid_t> parse_pid(std::string_view text) {
  const auto pid = parse_integer<pid_t>(trim(text));
  if (!pid || *pid < 0) return std::nullopt;
  return pid;
}

void apply_status_field(ProcessStatus& status, std::string_view key, std::string_view value) {
  if (key == "Name") {
    // The kernel writes "Name:\t<comm>"; comm itself may contain spaces.
    if (value.starts_with('\t')) value.remove_prefix(1);
    status.name = std::string(value);
  } else if (key == "State") {
    status.state = parse_state_letter(value);
  } else if (key == "Tgid") {
    status.tgid = parse_pid(value);
  } else if (key == "VmRSS") {
    status.vm_rss = parse_kilobytes(value);
  } else if (key == "RssAnon") {
    status.rss_anon = parse_kilobytes(value);
  } else if (key == "RssFile") {
    status.rss_file = parse_kilobytes(value);
  } else if (key == "RssShmem") {
    status.rss_shmem = parse_kilobytes(value);
  } else if (key == "Threads") {
    status.threads = parse_integer<uint64_t>(trim(value));
  }
}

std::optional<std::vector<std::string>> parse_controllers(std::string_view list) {
  std::vector<std::string> controllers;
  if (list.empty()) return controllers;  // the v2 unified hierarchy
  for (const auto controller : split(list, ',')) {
    if (controller.empty()) return std::nullopt;
    controllers.emplace_back(controller);
  }
  return controllers;
}

std::optional<uint64_t> count_directory_entries(const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::directory_iterator it(directory, error);
  uint64_t count = 0;
  for (; !error && it != std::filesystem::directory_iterator{}; it.increment(error)) ++count;
  if (error) return std::nullopt;
  return count;
}

// Since Linux 6.2, stat() of /proc/PID/fd reports the number of open fds
// as its size. Listing the directory instead costs a dentry per fd: tens of
// milliseconds for a process with tens of thousands of sockets.
// On any other filesystem (a copied host tree) the size means nothing.
std::optional<uint64_t> count_open_fds(const std::filesystem::path& fd_directory) {
  struct statfs fs {};
  struct stat st {};
  if (::statfs(fd_directory.c_str(), &fs) != 0 || ::stat(fd_directory.c_str(), &st) != 0) return std::nullopt;
  if (fs.f_type == PROC_SUPER_MAGIC && st.st_size > 0) return static_cast<uint64_t>(st.st_size);
  return count_directory_entries(fd_directory);
}

}  // namespace

ProcessStatus parse_status(std::string_view text) {
  ProcessStatus status;
  for (const auto line : split(text, '\n')) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    apply_status_field(status, line.substr(0, colon), line.substr(colon + 1));
  }
  return status;
}

std::optional<ProcessStat> parse_stat(std::string_view text) {
  // comm may itself contain ") ", so only the last ')' ends it.
  const auto open = text.find(" (");
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  if (!parse_pid(text.substr(0, open))) return std::nullopt;

  // Field 3 (state) is the first word after comm; proc(5) numbers from 1.
  constexpr size_t kState = 0, kFlags = 9 - 3, kStartTime = 22 - 3;
  const auto fields = split_whitespace(text.substr(close + 1));
  if (fields.size() <= kStartTime || fields[kState].size() != 1 ||
      !std::isalpha(static_cast<unsigned char>(fields[kState][0]))) {
    return std::nullopt;
  }
  const auto flags = parse_integer<uint64_t>(fields[kFlags]);
  const auto start_time = parse_integer<uint64_t>(fields[kStartTime]);
  if (!flags || !start_time) return std::nullopt;
  return ProcessStat{.state = fields[kState][0], .flags = *flags, .start_time = *start_time};
}

std::vector<CgroupMembership> parse_cgroup_file(std::string_view text) {
  std::vector<CgroupMembership> memberships;
  for (const auto line : split(text, '\n')) {
    // The path is last and may itself contain ':'.
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const auto id = parse_integer<int>(line.substr(0, first));
    const auto controllers = line.substr(first + 1, second - first - 1);
    const auto path = line.substr(second + 1);
    if (!id || *id < 0 || !path.starts_with('/')) continue;

    auto parsed = parse_controllers(controllers);
    if (!parsed) continue;
    memberships.push_back({.hierarchy_id = *id, .controllers = std::move(*parsed), .path = std::string(path)});
  }
  return memberships;
}

std::string parse_cmdline(std::string_view raw) {
  const auto last = raw.find_last_not_of('\0');
  std::string joined(raw.substr(0, last == std::string_view::npos ? 0 : last + 1));
  std::replace(joined.begin(), joined.end(), '\0', ' ');
  return joined;
}

std::optional<std::string> read_text_file(const std::filesystem::path& path) {
  const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) return std::nullopt;
  const OwnedFd file(raw);
  // procfs and cgroupfs report a size of 0, so read until EOF.
  std::string contents;
  std::array<char, 4096> chunk;
  while (true) {
    const auto n = ::read(file.get(), chunk.data(), chunk.size());
    if (n == 0) return contents;
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    contents.append(chunk.data(), static_cast<size_t>(n));
  }
}

std::optional<ProcessStat> read_stat(const HostPaths& paths, pid_t pid) {
  const auto text = read_text_file(paths.proc / std::to_string(pid) / "stat");
  if (!text) return std::nullopt;
  return parse_stat(*text);
}

namespace {

// A thread of pid's group that has not exited, if any: where a zombie
// leader's memory and files are still seen.
std::optional<std::filesystem::path> live_thread(const std::filesystem::path& directory, pid_t pid) {
  std::error_code error;
  for (std::filesystem::directory_iterator it(directory / "task", error), end; !error && it != end;
       it.increment(error)) {
    const auto tid = parse_pid(it->path().filename().native());
    if (!tid || *tid == pid) continue;
    const auto text = read_text_file(it->path() / "stat");
    const auto stat = text ? parse_stat(*text) : std::nullopt;
    if (stat && stat->state != 'Z' && stat->state != 'X') return it->path();
  }
  return std::nullopt;
}

}  // namespace

ProcessInfo read_process(const HostPaths& paths, pid_t pid) {
  const auto directory = paths.proc / std::to_string(pid);
  std::error_code error;
  if (pid <= 0 || !std::filesystem::is_directory(directory, error)) {
    throw Error(ErrorKind::no_such_process, "no process with PID " + std::to_string(pid));
  }
  const auto stat_text = read_text_file(directory / "stat");
  if (!stat_text) {
    throw Error(ErrorKind::process_exited, "process " + std::to_string(pid) + " exited while being read");
  }
  const auto stat = parse_stat(*stat_text);
  if (!stat) throw Error(ErrorKind::io, "cannot parse " + (directory / "stat").string());

  ProcessInfo info;
  info.pid = pid;
  info.stat = *stat;
  if (const auto status = read_text_file(directory / "status")) info.status = parse_status(*status);
  auto thread_directory = directory;
  if (info.stat.state == 'Z' && info.status.threads.value_or(0) > 1) {
    if (const auto live = live_thread(directory, pid)) {
      info.leader_exited = true;
      thread_directory = *live;
      if (const auto status = read_text_file(*live / "status")) info.status = parse_status(*status);
    }
  }
  if (const auto cmdline = read_text_file(directory / "cmdline")) info.cmdline = parse_cmdline(*cmdline);
  if (const auto cgroups = read_text_file(directory / "cgroup")) info.cgroups = parse_cgroup_file(*cgroups);
  info.open_fds = count_open_fds(thread_directory / "fd");
  return info;
}

}  // namespace lw
