// Support for tests that load the real BPF programs and compare them with
// real processes: a fixture that loads the iterator (skipping only when the
// kernel refuses it, and failing instead under LEAKWATCH_REQUIRE_BPF=1), and
// a handle on a running lw-workload process.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "leakwatch/socket_iterator.h"

namespace lw::test {

class BpfTest : public ::testing::Test {
 protected:
  void SetUp() override;
  SocketIterator& iterator() { return *iterator_; }

 private:
  std::unique_ptr<SocketIterator> iterator_;
};

// A child process we started; it is ended (by its PID) when this goes away.
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

// lw-workload with the given arguments (its path comes from CMake).
std::unique_ptr<ChildProcess> start_workload(const std::vector<std::string>& args);

// How many of a process's file descriptors are sockets, from /proc/PID/fd.
size_t count_socket_fds(pid_t pid);

// Repeats check until it returns true or the timeout passes; for state the
// kernel reaches asynchronously (loopback delivery, FIN processing).
bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace lw::test
