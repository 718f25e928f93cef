#include "run_command.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

namespace lw::test {
namespace {

std::string read_and_remove(const std::string& path) {
  std::ifstream in(path);
  std::string text(std::istreambuf_iterator<char>(in), {});
  unlink(path.c_str());
  return text;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, Output output,
                          const std::function<void()>& before_exec) {
  // Files, not pipes: nothing to drain while the command runs. Named after
  // this process: ctest -j runs other test processes beside it.
  const std::string prefix = "/tmp/lw_command_" + std::to_string(getpid());
  const std::string out_path = output == Output::capture ? prefix + "_out" : "/dev/null";
  const std::string err_path = output == Output::capture ? prefix + "_err" : "/dev/null";
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0) _exit(126);
    if (before_exec) before_exec();
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  CommandResult r;
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (output == Output::capture) {
    r.out = read_and_remove(out_path);
    r.err = read_and_remove(err_path);
  }
  return r;
}

}  // namespace lw::test
