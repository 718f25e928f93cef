// Times leakwatch's socket snapshot, through each backend (the BPF iterator,
// netlink sock_diag with /proc), against `ss -tmpi`, side by side in one run,
// on the same sockets: one process holding about 18,000 sockets, about
// 50,000 on the machine. Not a test: it reports figures, it asserts nothing.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <unordered_map>

#include "bench_support.h"
#include "child_process.h"
#include "collect/netlink_sockets.h"
#include "collect/socket_iter.h"
#include "model/socket_summary.h"
#include "private_bpffs.h"
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
  // What /sys/fs/bpf is on a node; a private one so the host's is not touched.
  const lw::test::PrivateBpfFs bpffs;
  const auto program_cache = bpffs.path() / "leakwatch";
  time_command({leakwatch, "inspect", std::to_string(big_pid), "--json", "--bpf-cache", program_cache.string()});
  lw::NetlinkSockets netlink(lw::HostPaths{});
  const auto everything = iterator.all();
  const auto one = iterator.for_process(big_pid);

  // What the agent does each round with a whole-machine pass.
  const auto whole_machine = [](lw::SocketSource& source) {
    const auto start = Clock::now();
    const auto records = source.all();
    std::unordered_map<uint32_t, std::vector<lw::SocketRecord>> by_process;
    for (const auto& r : records) by_process[r.tgid].push_back(r);
    size_t endpoints = 0;
    for (const auto& [tgid, own] : by_process) endpoints += lw::summarize_sockets(own, 10, 0).endpoints_total;
    return ms_since(start);
  };
  const auto one_process = [&](lw::SocketSource& source) {
    const auto start = Clock::now();
    const auto own = source.for_process(big_pid);
    return ms_since(start);
  };
  Series whole{"BPF: whole-machine snapshot + per-process aggregation (in process)", {}};
  Series whole_netlink{"netlink: whole-machine snapshot + per-process aggregation (in process)", {}};
  Series single{"BPF: one-process snapshot (in process)", {}};
  Series single_netlink{"netlink: one-process snapshot (in process)", {}};
  Series cli{"`leakwatch inspect PID --json --backend bpf --bpf-cache none` (whole command, BPF load included)", {}};
  Series cli_cached{"`leakwatch inspect PID --json --backend bpf` (whole command, program pinned by an earlier run)",
                    {}};
  Series cli_netlink{"`leakwatch inspect PID --json --backend netlink` (whole command)", {}};
  Series ss{"`ss -tmpi` (whole command)", {}};
  for (int i = 0; i < repeat; ++i) {
    whole.values.push_back(whole_machine(iterator));
    whole_netlink.values.push_back(whole_machine(netlink));
    single.values.push_back(one_process(iterator));
    single_netlink.values.push_back(one_process(netlink));
    cli.values.push_back(time_command(
        {leakwatch, "inspect", std::to_string(big_pid), "--json", "--backend", "bpf", "--bpf-cache", "none"}));
    cli_cached.values.push_back(time_command({leakwatch, "inspect", std::to_string(big_pid), "--json", "--backend",
                                              "bpf", "--bpf-cache", program_cache.string()}));
    cli_netlink.values.push_back(
        time_command({leakwatch, "inspect", std::to_string(big_pid), "--json", "--backend", "netlink"}));
    ss.values.push_back(time_command({"ss", "-tmpi"}));
  }

  std::cout << "Machine: " << lw::bench::machine_description() << "\n";
  std::cout << fmt::format("Sockets: {} on the machine, {} in the big process (PID {}); {} runs each, median\n\n",
                           everything.size(), one.size(), big_pid, repeat);
  std::cout << "| measurement | median ms | min ms | `ss -tmpi` / this |\n|---|---:|---:|---:|\n";
  for (const auto* s : {&whole, &whole_netlink, &single, &single_netlink, &cli, &cli_cached, &cli_netlink, &ss}) {
    std::cout << fmt::format("| {} | {:.1f} | {:.1f} | {:.1f}x |\n", s->name, s->median(), s->min(),
                             ss.median() / s->median());
  }
  // sock_diag answers for one network namespace: a pod's sockets cost the
  // netlink backend one entry into its namespace and one dump there.
  constexpr int kNamespaces = 20;
  std::vector<std::unique_ptr<lw::test::ChildProcess>> pods;
  for (int i = 0; i < kNamespaces; ++i) {
    pods.push_back(std::make_unique<lw::test::ChildProcess>(
        std::vector<std::string>{"unshare", "-n", workload, "sockets", "--unix-pairs", "1", "--max-seconds", "600"}));
    pods.back()->expect_line("ready ");
  }
  Series whole_netlink_pods{fmt::format("netlink: whole machine with {} more network namespaces", kNamespaces), {}};
  for (int i = 0; i < repeat; ++i) whole_netlink_pods.values.push_back(whole_machine(netlink));
  std::cout << fmt::format(
      "\n{}: median {:.1f} ms, {:.2f} ms more per network namespace entered (setns, which needs CAP_SYS_ADMIN)\n",
      whole_netlink_pods.name, whole_netlink_pods.median(),
      (whole_netlink_pods.median() - whole_netlink.median()) / kNamespaces);

  const auto target = [&](const Series& s, double times) {
    const double ratio = ss.median() / s.median();
    return fmt::format("{:.0f}x ({})", ratio, ratio >= times ? "met" : "MISSED");
  };
  std::cout << fmt::format(
      "\nTargets: whole machine >= 15x faster than ss: BPF {}, netlink {}; "
      "inspect PID >= 30x faster than ss: BPF {}, BPF with the program pinned {}, netlink {}\n",
      target(whole, 15), target(whole_netlink, 15), target(cli, 30), target(cli_cached, 30), target(cli_netlink, 30));
  return 0;
}
