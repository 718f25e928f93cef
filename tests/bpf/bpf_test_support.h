// Support for tests that load the real BPF programs and compare them with
// real processes: a fixture that loads the iterator (skipping only when the
// kernel refuses it, and failing instead under LEAKWATCH_REQUIRE_BPF=1), and
// handles on running lw-workload processes.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.h"
#include "collect/socket_iter.h"

namespace lw::test {

// Runs load(), which constructs a BPF-backed object. When the kernel refuses
// BPF (EPERM, ENOSYS) the current test is skipped with the reason, or fails
// under LEAKWATCH_REQUIRE_BPF=1; any other error propagates. From SetUp()
// the test body then does not run; a test body must check what load() made.
void load_or_skip(const std::function<void()>& load);

class BpfTest : public ::testing::Test {
 protected:
  void SetUp() override;
  SocketIterator& iterator() { return *iterator_; }

 private:
  std::unique_ptr<SocketIterator> iterator_;
};

// lw-workload with the given arguments (its path comes from CMake).
std::unique_ptr<ChildProcess> start_workload(const std::vector<std::string>& args);

// A child of the test that names itself with bytes that are not UTF-8
// ("lw" 0xff 0xfe "bad": prctl(PR_SET_NAME) takes any bytes) and grows its
// heap by bytes_per_second until it is killed, by its PID, on destruction.
class BadlyNamedChild {
 public:
  static constexpr std::string_view kName =
      "lw\xff\xfe"
      "bad";
  static constexpr std::string_view kNameAsUtf8 = "lw\uFFFD\uFFFDbad";  // as JSON writes it back
  explicit BadlyNamedChild(size_t bytes_per_second);
  BadlyNamedChild(const BadlyNamedChild&) = delete;
  BadlyNamedChild& operator=(const BadlyNamedChild&) = delete;
  ~BadlyNamedChild();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

// How many of a process's file descriptors are sockets, from /proc/PID/fd.
size_t count_socket_fds(pid_t pid);

// Sends 2,000 datagrams of 1,000 bytes to 127.0.0.1:port, more than a
// default receive buffer holds unread.
void flood_udp_on_loopback(uint16_t port);

// The kernel's own count of the datagrams it dropped at the UDP socket bound
// to 127.0.0.1:port in pid's network namespace (the last column of
// /proc/PID/net/udp); 0 with a test failure when there is none.
uint64_t kernel_udp_drops(pid_t pid, uint16_t port);

// Repeats check until it returns true or the timeout passes; for state the
// kernel reaches asynchronously (loopback delivery, FIN processing).
bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace lw::test
