// Exit codes of leakwatch and leakwatch-agent. Documented in the README;
// scripts depend on them, so a code never changes meaning.
#pragma once

#include <exception>
#include <iostream>
#include <string_view>

#include "util/error.h"

namespace lw {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,  // an unexpected failure: a bug, please report it
  kExitUsage = 2,     // bad command line: malformed PID, unknown flag
  kExitNoSuchProcess = 3,
  kExitKernelThread = 4,
  kExitZombie = 5,
  kExitProcessExited = 6,  // the process exited during the snapshot
  kExitNoPrivilege = 7,    // missing CAP_BPF/CAP_PERFMON (or root)
  kExitBpfRefused = 8,     // the kernel refused the BPF program
  kExitIo = 9,             // a required file could not be read
  kExitLeakFound = 10,     // inspect --watch found at least one leak
};

inline int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return kExitUsage;
    case ErrorKind::no_such_process: return kExitNoSuchProcess;
    case ErrorKind::kernel_thread: return kExitKernelThread;
    case ErrorKind::zombie: return kExitZombie;
    case ErrorKind::process_exited: return kExitProcessExited;
    case ErrorKind::no_privilege: return kExitNoPrivilege;
    case ErrorKind::bpf_refused: return kExitBpfRefused;
    case ErrorKind::io: return kExitIo;
  }
  return kExitInternal;
}

// "PROGRAM: error: MESSAGE" on stderr: the one line every failure gets.
inline void print_error(std::string_view program, std::string_view message) {
  std::cerr << program << ": error: " << message << "\n";
}

// Runs a command's body and turns whatever it throws into that one line
// and a documented exit code; nothing escapes as a crash or stack trace.
template <typename Body>
int exit_code_of(std::string_view program, Body&& body) {
  try {
    return body();
  } catch (const Error& e) {
    print_error(program, e.what());
    return exit_code_for(e.kind());
  } catch (const std::exception& e) {
    print_error(program, std::string("unexpected failure: ") + e.what() + " (please report this as a bug)");
    return kExitInternal;
  }
}

}  // namespace lw
