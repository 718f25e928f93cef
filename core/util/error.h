// Errors the core library reports to its callers. Each kind maps to one
// documented exit code in the CLI (see cli/src/exit_codes.h and README).
#pragma once

#include <stdexcept>
#include <string>

namespace lw {

enum class ErrorKind {
  usage,            // the caller asked for something malformed
  no_such_process,  // the PID does not exist
  kernel_thread,    // the PID is a kernel thread: it has no user memory or sockets
  zombie,           // the process has exited and waits for its parent
  process_exited,   // the process exited while we were reading it
  no_privilege,     // we lack the capabilities to load BPF programs
  bpf_refused,      // the kernel refused to load or run the BPF program
  io,               // a file we need could not be read
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message, int sys_errno = 0)
      : std::runtime_error(message), kind_(kind), sys_errno_(sys_errno) {}
  ErrorKind kind() const { return kind_; }
  // The errno behind the failure, 0 when there is none.
  int sys_errno() const { return sys_errno_; }

 private:
  ErrorKind kind_;
  int sys_errno_;
};

}  // namespace lw
