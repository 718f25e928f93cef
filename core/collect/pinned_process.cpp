#include "collect/pinned_process.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace lw {
namespace {

int open_pidfd(pid_t pid) {
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) return fd;
  const int err = errno;
  if (err == ESRCH) {
    throw Error(ErrorKind::process_exited,
                fmt::format("PID {} exited before its sockets could be read; nothing left to report", pid), err);
  }
  throw Error(ErrorKind::io, fmt::format("pidfd_open({}) failed: {}", pid, std::strerror(err)), err);
}

}  // namespace

PinnedProcess::PinnedProcess(pid_t pid) : pid_(pid), pidfd_(open_pidfd(pid)) {}

void PinnedProcess::require_alive() const {
  pollfd exited{pidfd_.get(), POLLIN, 0};
  if (poll(&exited, 1, 0) == 1) {
    throw Error(ErrorKind::process_exited,
                fmt::format("PID {} exited while its sockets were being read; nothing left to report", pid_));
  }
}

}  // namespace lw
