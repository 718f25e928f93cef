#include "test_cgroup.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <ranges>
#include <stdexcept>
#include <thread>

namespace lw::test {
namespace {

bool path_exists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

// On cgroup v2 a cgroup has the memory controller (memory.current, ...) only
// when its parent delegates it. systemd does that for its own slices; a bare
// hierarchy (a test guest's) does not. A parent that holds processes itself
// refuses; the leaf then lacks the memory files, as on such a host.
void delegate_memory(const std::filesystem::path& parent) {
  if (path_exists(parent / "cgroup.subtree_control")) std::ofstream(parent / "cgroup.subtree_control") << "+memory";
}

}  // namespace

TestCgroup::TestCgroup(const std::string& name) : name_(name) {
  const std::filesystem::path root = "/sys/fs/cgroup";
  // v1 memory hierarchy (hybrid hosts), unified hierarchy below it or at the root.
  for (const auto& hierarchy : {root / "memory", root / "unified", root}) {
    if (!path_exists(hierarchy / "cgroup.procs")) continue;
    if (hierarchy == root && !path_exists(root / "cgroup.controllers")) continue;
    std::filesystem::path dir = hierarchy;
    for (const auto& component : std::filesystem::path(name)) {
      delegate_memory(dir);
      dir /= component;
      if (std::filesystem::create_directory(dir)) created_.push_back(dir);
    }
    leaves_.push_back(dir);
  }
  if (leaves_.empty()) throw std::runtime_error("no writable cgroup hierarchy found");
}

TestCgroup::~TestCgroup() {
  for (const auto& dir : std::views::reverse(created_)) {
    // The kernel refuses to remove a cgroup until its last process is reaped.
    for (int i = 0; i < 100 && rmdir(dir.c_str()) != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string TestCgroup::enter_command() const {
  std::string script;
  for (const auto& dir : leaves_)
    script += (script.empty() ? "" : " && ") + ("echo $$ > " + (dir / "cgroup.procs").string());
  return script;
}

std::vector<std::string> TestCgroup::wrap(const std::vector<std::string>& command) const {
  std::vector<std::string> argv{"/bin/sh", "-c", enter_command() + " && exec \"$@\"", "sh"};
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

}  // namespace lw::test
