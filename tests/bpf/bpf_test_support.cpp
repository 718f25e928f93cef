#include "bpf_test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
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

BadlyNamedChild::BadlyNamedChild(size_t bytes_per_second) : pid_(fork()) {
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ > 0) {
    // Named before anyone looks at it.
    const auto named = [this] {
      std::string comm;
      std::getline(std::ifstream(fmt::format("/proc/{}/comm", pid_)), comm);
      return comm == kName;
    };
    while (!named()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return;
  }
  // The child: system calls only (the parent has threads; malloc's lock may be held).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_NAME, std::string(kName).c_str());
  const size_t chunk = bytes_per_second / 10;
  for (;;) {
    if (chunk > 0) {
      void* block = mmap(nullptr, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (block != MAP_FAILED) std::memset(block, 0x5a, chunk);
    }
    usleep(100000);
  }
}

BadlyNamedChild::~BadlyNamedChild() {
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
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

void flood_udp_on_loopback(uint16_t port) {
  const int sender = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sender, 0) << std::strerror(errno);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string datagram(1000, 'x');
  for (int i = 0; i < 2000; ++i) {
    const ssize_t sent =
        sendto(sender, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    EXPECT_EQ(sent, static_cast<ssize_t>(datagram.size())) << std::strerror(errno);
  }
  close(sender);
}

uint64_t kernel_udp_drops(pid_t pid, uint16_t port) {
  std::ifstream table(fmt::format("/proc/{}/net/udp", pid));
  const std::string local = fmt::format("0100007F:{:04X}", port);
  for (std::string line; std::getline(table, line);) {
    std::istringstream fields(line);
    std::string slot, address, last;
    fields >> slot >> address;
    if (address != local) continue;
    for (std::string field; fields >> field;) last = field;
    return std::stoull(last);
  }
  ADD_FAILURE() << "no UDP socket on " << local << " in /proc/" << pid << "/net/udp";
  return 0;
}

}  // namespace lw::test
