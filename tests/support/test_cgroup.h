// A cgroup a test creates, in the memory hierarchy and in the unified one
// (hybrid hosts have both), removed when the test ends. Processes started
// in it are attributed to it by the kernel from their first socket on.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace lw::test {

class TestCgroup {
 public:
  // name: a unique directory name, e.g. "leakwatch-test-<pid>".
  explicit TestCgroup(const std::string& name);
  ~TestCgroup();
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;

  // The path as /proc/PID/cgroup shows it for the memory controller.
  std::string path() const { return "/" + name_; }
  // argv that runs `command` inside this cgroup: a shell moves itself in
  // and then execs the command, so nothing runs outside it.
  std::vector<std::string> wrap(const std::vector<std::string>& command) const;

 private:
  std::string name_;
  std::vector<std::filesystem::path> directories_;
};

}  // namespace lw::test
