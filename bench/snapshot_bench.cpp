// Times leakwatch's socket snapshot against `ss -tmpi`, side by side in one
// run, on the same sockets: one process holding about 18,000 sockets, about
// 50,000 on the machine. Not a test: it reports figures, it asserts nothing.
#include <fcntl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <unordered_map>

#include <fmt/format.h>

#include "child_process.h"
#include "leakwatch/socket_iterator.h"
#include "leakwatch/socket_summary.h"

namespace {

using Clock = std::chrono::steady_clock;
using lw::test::ChildProcess;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Wall time of a command with its output discarded, as a user would run it.
double time_command(const std::vector<std::string>& argv) {
  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(fmt::format("{} failed with status {}", argv[0], status));
  }
  return ms_since(start);
}

struct Series {
  std::string name;
  std::vector<double> ms;
  double median() const {
    auto sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    return sorted[sorted.size() / 2];
  }
  double min() const { return *std::min_element(ms.begin(), ms.end()); }
};

// A server process and a client process joined by `count` loopback connections.
struct ConnectionPair {
  std::unique_ptr<ChildProcess> server;
  std::unique_ptr<ChildProcess> client;
};

ConnectionPair connect_pair(const std::string& workload, int count) {
  const std::string max_seconds = "600";
  ConnectionPair p;
  p.server = std::make_unique<ChildProcess>(std::vector<std::string>{
      workload, "serve", "--bind", "127.0.0.1", "--port", "0", "--count", std::to_string(count), "--max-seconds",
      max_seconds});
  const std::string port = p.server->expect_line("ready ");
  p.client = std::make_unique<ChildProcess>(std::vector<std::string>{
      workload, "connect", "--to", "127.0.0.1", "--port", port, "--count", std::to_string(count), "--max-seconds",
      max_seconds});
  p.client->expect_line("ready ", std::chrono::seconds(120));
  p.server->expect_line("accepted ", std::chrono::seconds(120));
  return p;
}

std::string first_line_of(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Socket snapshot benchmark: leakwatch against ss -tmpi on the same sockets"};
  std::string workload = LW_WORKLOAD_PATH, leakwatch = LW_CLI_PATH;
  int big = 18000, total = 50000, repeat = 7;
  app.add_option("--workload", workload, "lw-workload binary")->capture_default_str();
  app.add_option("--leakwatch", leakwatch, "leakwatch binary")->capture_default_str();
  app.add_option("--big", big, "Sockets held by the one big process (at most 19,000)")
      ->check(CLI::Range(100, 19000))->capture_default_str();
  app.add_option("--total", total, "Sockets on the machine in all")->check(CLI::Range(1000, 120000))->capture_default_str();
  app.add_option("--repeat", repeat, "Runs of each measurement; medians are reported")
      ->check(CLI::Range(1, 100))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // The big pair holds 2*big+1 sockets; the rest is spread over pairs that
  // stay under the per-process file descriptor limit.
  std::vector<ConnectionPair> pairs;
  pairs.push_back(connect_pair(workload, big));
  for (int left = total - 2 * big - 1; left > 1;) {
    const int count = std::min(left / 2, big);
    pairs.push_back(connect_pair(workload, count));
    left -= 2 * count + 1;
  }
  const pid_t big_pid = pairs.front().client->pid();

  lw::SocketIterator iterator;
  const auto everything = iterator.all();
  const auto one = iterator.for_process(big_pid);

  Series whole{"leakwatch whole-machine snapshot + per-process aggregation (in process)", {}};
  Series single{"leakwatch one-process snapshot (in process)", {}};
  Series cli{"`leakwatch inspect PID --json` (whole command, BPF load included)", {}};
  Series ss{"`ss -tmpi` (whole command)", {}};
  for (int i = 0; i < repeat; ++i) {
    auto start = Clock::now();
    const auto records = iterator.all();
    std::unordered_map<uint32_t, std::vector<lw::SocketRecord>> by_process;
    for (const auto& r : records) by_process[r.tgid].push_back(r);
    size_t endpoints = 0;
    for (const auto& [tgid, own] : by_process) endpoints += lw::summarize_sockets(own, 10).endpoints_total;
    whole.ms.push_back(ms_since(start));

    start = Clock::now();
    const auto own = iterator.for_process(big_pid);
    single.ms.push_back(ms_since(start));

    cli.ms.push_back(time_command({leakwatch, "inspect", std::to_string(big_pid), "--json"}));
    ss.ms.push_back(time_command({"ss", "-tmpi"}));
  }

  utsname u{};
  uname(&u);
  std::cout << fmt::format("Machine: {} cores, {}, kernel {} {}\n", sysconf(_SC_NPROCESSORS_ONLN),
                           first_line_of("/proc/cpuinfo", "model name"), u.release, u.machine);
  std::cout << fmt::format("Sockets: {} on the machine, {} in the big process (PID {}); {} runs each, median\n\n",
                           everything.size(), one.size(), big_pid, repeat);
  std::cout << "| measurement | median ms | min ms | `ss -tmpi` / this |\n|---|---:|---:|---:|\n";
  for (const auto* s : {&whole, &single, &cli, &ss}) {
    std::cout << fmt::format("| {} | {:.1f} | {:.1f} | {:.1f}x |\n", s->name, s->median(), s->min(),
                             ss.median() / s->median());
  }
  std::cout << fmt::format("\nTargets: whole machine >= 15x faster than ss: {:.0f}x ({}); "
                           "inspect PID >= 30x faster than ss: {:.0f}x ({})\n",
                           ss.median() / whole.median(), ss.median() / whole.median() >= 15 ? "met" : "MISSED",
                           ss.median() / cli.median(), ss.median() / cli.median() >= 30 ? "met" : "MISSED");
  return 0;
}
