// Times leakwatch's socket snapshot against `ss -tmpi`, side by side in one
// run, on the same sockets: one process holding about 18,000 sockets, about
// 50,000 on the machine. Not a test: it reports figures, it asserts nothing.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <unordered_map>

#include "bench_support.h"
#include "collect/socket_iter.h"
#include "model/socket_summary.h"
#include "socket_fleet.h"

using namespace lw::bench;

int main(int argc, char** argv) {
  CLI::App app{"Socket snapshot benchmark: leakwatch against ss -tmpi on the same sockets"};
  std::string workload = LW_WORKLOAD_PATH, leakwatch = LW_CLI_PATH;
  int big = 18000, total = 50000, repeat = 7;
  app.add_option("--workload", workload, "lw-workload binary")->capture_default_str();
  app.add_option("--leakwatch", leakwatch, "leakwatch binary")->capture_default_str();
  app.add_option("--big", big, "Sockets held by the one big process (at most 19,000)")
      ->check(CLI::Range(100, 19000))
      ->capture_default_str();
  app.add_option("--total", total, "Sockets on the machine in all")
      ->check(CLI::Range(1000, 120000))
      ->capture_default_str();
  app.add_option("--repeat", repeat, "Runs of each measurement; medians are reported")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const lw::test::SocketFleet fleet(workload, total, big);
  const pid_t big_pid = fleet.biggest_process();

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
    for (const auto& [tgid, own] : by_process) endpoints += lw::summarize_sockets(own, 10, 0).endpoints_total;
    whole.values.push_back(ms_since(start));

    start = Clock::now();
    const auto own = iterator.for_process(big_pid);
    single.values.push_back(ms_since(start));

    cli.values.push_back(time_command({leakwatch, "inspect", std::to_string(big_pid), "--json"}));
    ss.values.push_back(time_command({"ss", "-tmpi"}));
  }

  std::cout << "Machine: " << lw::bench::machine_description() << "\n";
  std::cout << fmt::format("Sockets: {} on the machine, {} in the big process (PID {}); {} runs each, median\n\n",
                           everything.size(), one.size(), big_pid, repeat);
  std::cout << "| measurement | median ms | min ms | `ss -tmpi` / this |\n|---|---:|---:|---:|\n";
  for (const auto* s : {&whole, &single, &cli, &ss}) {
    std::cout << fmt::format("| {} | {:.1f} | {:.1f} | {:.1f}x |\n", s->name, s->median(), s->min(),
                             ss.median() / s->median());
  }
  std::cout << fmt::format(
      "\nTargets: whole machine >= 15x faster than ss: {:.0f}x ({}); "
      "inspect PID >= 30x faster than ss: {:.0f}x ({})\n",
      ss.median() / whole.median(), ss.median() / whole.median() >= 15 ? "met" : "MISSED", ss.median() / cli.median(),
      ss.median() / cli.median() >= 30 ? "met" : "MISSED");
  return 0;
}
