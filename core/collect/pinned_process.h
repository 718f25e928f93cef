// A process held by a pidfd across a read of its sockets: the read cannot
// wander onto another process that reuses the PID, and the pidfd says
// afterwards whether the process exited meanwhile.
#pragma once

#include <sys/types.h>

#include "util/owned_fd.h"

namespace lw {

class PinnedProcess {
 public:
  // Throws lw::Error(process_exited) when the process is already gone.
  explicit PinnedProcess(pid_t pid);
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  // Throws lw::Error(process_exited) when the process exited since pinning:
  // what was read may not be its.
  void require_alive() const;

 private:
  pid_t pid_;
  OwnedFd pidfd_;
};

}  // namespace lw
