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
  // name: a unique path, e.g. "leakwatch-test-<pid>", or nested, e.g.
  // "leakwatch-test-<pid>/kubepods/besteffort/pod<uid>/<container id>"
  // (every level this creates is removed again).
  explicit TestCgroup(const std::string& name);
  ~TestCgroup();
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;

  // The path as /proc/PID/cgroup shows it for the memory controller.
  std::string path() const { return "/" + name_; }
  // A shell command that moves the shell running it ($$) into this cgroup.
  std::string enter_command() const;
  // argv that runs `command` inside this cgroup: a shell moves itself in
  // and then execs the command, so nothing runs outside it.
  std::vector<std::string> wrap(const std::vector<std::string>& command) const;

 private:
  std::string name_;
  std::vector<std::filesystem::path> leaves_;   // the cgroup in each hierarchy
  std::vector<std::filesystem::path> created_;  // every directory made, parents first
};

}  // namespace lw::test
