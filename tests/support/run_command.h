// A command run to completion, for tests that check what a binary prints
// and how it exits, and for benchmarks that time whole commands.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace lw::test {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when a signal ended it
  std::string out;
  std::string err;
};

enum class Output { capture, discard };

// Runs argv (searched in PATH) and waits for it. before_exec runs in the
// child (to drop privileges, say). Output::discard sends stdout and stderr to
// /dev/null, so a benchmark times the command, not the copying of its output.
CommandResult run_command(const std::vector<std::string>& argv, Output output = Output::capture,
                          const std::function<void()>& before_exec = {});

}  // namespace lw::test
