// Readers for /proc/PID. Parsers take file contents so they can be tested on
// fixtures; readers take a HostPaths so they work from inside a container.
// Every value the kernel may omit is optional: unknown is never reported as 0.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/host_paths.h"

namespace lw {

// Fields of /proc/PID/status, in bytes.
struct ProcessStatus {
  std::optional<std::string> name;  // "Name:", the command name (comm)
  std::optional<char> state;        // first letter of "State:", e.g. 'R', 'S', 'Z'
  std::optional<pid_t> tgid;        // "Tgid:"
  std::optional<uint64_t> vm_rss;   // "VmRSS:"
  std::optional<uint64_t> rss_anon;
  std::optional<uint64_t> rss_file;
  std::optional<uint64_t> rss_shmem;
  std::optional<uint64_t> threads;  // "Threads:", live threads of the group
};

// Fields of /proc/PID/stat that tell a process's identity and kind.
struct ProcessStat {
  char state = '?';
  uint64_t flags = 0;       // PF_* flags; PF_KTHREAD marks kernel threads
  uint64_t start_time = 0;  // clock ticks since boot: (pid, start_time) survives PID reuse
  bool is_kernel_thread() const { return (flags & 0x00200000u) != 0; }
};

// One line of /proc/PID/cgroup: "hierarchy-id:controllers:path".
struct CgroupMembership {
  int hierarchy_id = 0;
  std::vector<std::string> controllers;  // empty for the v2 unified hierarchy
  std::string path;
  bool is_unified() const { return hierarchy_id == 0 && controllers.empty(); }
  bool lists(std::string_view controller) const {
    return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
  }
};

ProcessStatus parse_status(std::string_view text);
// Returns nullopt when the text is not a stat line.
std::optional<ProcessStat> parse_stat(std::string_view text);
// Skips malformed lines.
std::vector<CgroupMembership> parse_cgroup_file(std::string_view text);
// NUL-separated arguments joined by spaces; trailing NULs dropped.
std::string parse_cmdline(std::string_view raw);

// Everything inspect needs about one process.
struct ProcessInfo {
  pid_t pid = 0;
  ProcessStat stat;
  ProcessStatus status;
  std::string cmdline;                    // empty for kernel threads and zombies
  std::optional<uint64_t> open_fds;       // entries of /proc/PID/fd
  std::vector<CgroupMembership> cgroups;  // empty when unreadable
  // The main thread exited (pthread_exit from main) while other threads
  // live on: /proc/PID shows a zombie leader without memory or files, so
  // status and fds were read from a live thread (/proc/PID/task/TID).
  bool leader_exited = false;
  // False for a zombie or dead process; true for a live thread group, a
  // zombie leader's included.
  bool alive() const { return leader_exited || (stat.state != 'Z' && stat.state != 'X'); }
};

// Reads one process. Throws lw::Error(no_such_process) when /proc/PID does
// not exist, and lw::Error(process_exited) when it vanishes while reading.
ProcessInfo read_process(const HostPaths& paths, pid_t pid);

// The process's stat, or nullopt when it no longer exists.
std::optional<ProcessStat> read_stat(const HostPaths& paths, pid_t pid);

// Reads a whole file; nullopt when it cannot be opened or read.
std::optional<std::string> read_text_file(const std::filesystem::path& path);

}  // namespace lw
