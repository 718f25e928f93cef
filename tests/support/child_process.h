// A child process started by a test or a benchmark, ended by its PID when
// the handle goes away; its stdout is read line by line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lw::test {

class ChildProcess {
 public:
  // Starts argv[0] with the arguments; its stdout (and its stderr too, when
  // merge_stderr is set) is readable line by line.
  explicit ChildProcess(const std::vector<std::string>& argv, bool merge_stderr = false);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The next stdout line, or nullopt on EOF or timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Reads lines until one starts with prefix; returns the rest of that line.
  std::string expect_line(const std::string& prefix, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // From now on a thread reads the output into a log, so a chatty child
  // never blocks on a full pipe; read_line must not be used afterwards.
  void keep_draining();
  // The output read by keep_draining so far.
  std::string drained_output() const;
  void signal(int sig);
  // Waits for exit; returns the exit status as from waitpid.
  int wait();

 private:
  pid_t pid_ = -1;
  std::thread drainer_;
  mutable std::mutex drained_mutex_;
  std::string drained_;
  int stdout_fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
};

}  // namespace lw::test
