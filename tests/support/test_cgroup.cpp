#include "test_cgroup.h"

#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace lw::test {
namespace {

bool path_exists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

}  // namespace

TestCgroup::TestCgroup(const std::string& name) : name_(name) {
  const std::filesystem::path root = "/sys/fs/cgroup";
  // v1 memory hierarchy (hybrid hosts), unified hierarchy below it or at the root.
  for (const auto& hierarchy : {root / "memory", root / "unified", root}) {
    if (!path_exists(hierarchy / "cgroup.procs")) continue;
    if (hierarchy == root && !path_exists(root / "cgroup.controllers")) continue;
    const auto dir = hierarchy / name;
    std::filesystem::create_directories(dir);
    directories_.push_back(dir);
  }
  if (directories_.empty()) throw std::runtime_error("no writable cgroup hierarchy found");
}

TestCgroup::~TestCgroup() {
  for (const auto& dir : directories_) {
    // The kernel refuses to remove a cgroup until its last process is reaped.
    for (int i = 0; i < 100 && rmdir(dir.c_str()) != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> TestCgroup::wrap(const std::vector<std::string>& command) const {
  std::string script;
  for (const auto& dir : directories_) script += "echo $$ > " + (dir / "cgroup.procs").string() + " && ";
  script += "exec \"$@\"";
  std::vector<std::string> argv{"/bin/sh", "-c", script, "sh"};
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

}  // namespace lw::test
