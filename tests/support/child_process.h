// A child process started by a test or a benchmark, ended by its PID when
// the handle goes away; its stdout is read line by line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace lw::test {

class ChildProcess {
 public:
  // Starts argv[0] with the arguments; its stdout is readable line by line.
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The next stdout line, or nullopt on EOF or timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Reads lines until one starts with prefix; returns the rest of that line.
  std::string expect_line(const std::string& prefix, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void signal(int sig);
  // Waits for exit; returns the exit status as from waitpid.
  int wait();

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
};

}  // namespace lw::test
