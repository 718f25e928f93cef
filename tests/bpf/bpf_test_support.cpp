#include "bpf_test_support.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "util/error.h"

namespace lw::test {

void load_or_skip(const std::function<void()>& load) {
  try {
    load();
  } catch (const Error& e) {
    const int err = e.sys_errno();
    if (err != EPERM && err != ENOSYS) throw;
    const char* required = std::getenv("LEAKWATCH_REQUIRE_BPF");
    if (required && std::string(required) == "1") {
      FAIL() << "LEAKWATCH_REQUIRE_BPF=1 but the kernel refused the BPF program: " << e.what();
    }
    GTEST_SKIP() << "the kernel refused the BPF program (" << std::strerror(err) << "): " << e.what();
  }
}

void BpfTest::SetUp() {
  load_or_skip([&] { iterator_ = std::make_unique<SocketIterator>(); });
}

std::unique_ptr<ChildProcess> start_workload(const std::vector<std::string>& args) {
  std::vector<std::string> argv{LW_WORKLOAD_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--max-seconds");
  argv.push_back("120");
  return std::make_unique<ChildProcess>(argv);
}

size_t count_socket_fds(pid_t pid) {
  size_t count = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (!ec && target.string().rfind("socket:[", 0) == 0) count++;
  }
  return count;
}

bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return check();
}

}  // namespace lw::test
