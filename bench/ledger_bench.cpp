// The ingress ledger's memory at the scale of a busy node: a million TCP
// sockets tracked, held by thousands of processes in thousands of pod
// cgroups whose paths are as long as the kubelet makes them, with sockets
// and pods coming and going every round. The ledger is the agent state that
// grows with the node; this drives the agent's own accounting code with
// synthetic sockets, because one machine here cannot hold a million real
// ones (20,000 descriptors per process). Not a test: it reports, it asserts
// nothing.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <iostream>
#include <set>

#include "bench_support.h"
#include "model/ingress_ledger.h"

namespace {

using namespace lw;

struct Options {
  uint64_t sockets = 1'000'000;
  uint64_t processes = 5'000;
  uint64_t cgroups = 2'000;
  uint64_t rounds = 30;
  double socket_churn = 0.01;  // of the sockets replaced each round
  double pod_churn = 0.02;     // of the cgroups replaced each round
};

// A container's cgroup path as the kubelet names it under systemd.
std::string pod_cgroup(uint64_t generation) {
  return fmt::format(
      "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{:08x}_1b2c_4d5e_8f90_a1b2c3d4e5f6.slice/"
      "cri-containerd-{:064x}.scope",
      generation, generation * 2654435761u);
}

// The node as it is in one round: socket i belongs to process i % processes,
// process p to cgroup slot p % cgroups; a slot's pod is replaced now and then.
class Node {
 public:
  explicit Node(const Options& o) : o_(o), slot_generation_(o.cgroups) {
    for (uint64_t slot = 0; slot < o.cgroups; ++slot) slot_generation_[slot] = next_generation_++;
    for (uint64_t i = 0; i < o.sockets; ++i) inodes_.push_back(next_inode_++);
  }

  void churn() {
    for (uint64_t n = 0; n < static_cast<uint64_t>(o_.socket_churn * o_.sockets); ++n) {
      uint64_t& inode = inodes_[next_replaced_socket_++ % o_.sockets];
      closed_.push_back(inode);
      inode = next_inode_++;
    }
    for (uint64_t n = 0; n < static_cast<uint64_t>(o_.pod_churn * o_.cgroups); ++n)
      slot_generation_[next_replaced_slot_++ % o_.cgroups] = next_generation_++;
  }

  // One round of the agent's accounting: every live socket, then the
  // closes of those replaced since the last round.
  void account(IngressLedger& ledger, uint64_t round) {
    std::vector<std::string> paths;
    for (const uint64_t g : slot_generation_) paths.push_back(pod_cgroup(g));
    for (uint64_t i = 0; i < o_.sockets; ++i) {
      const uint64_t process = i % o_.processes;
      const ProcessKey key{static_cast<pid_t>(process + 1000), slot_generation_[process % o_.cgroups]};
      ledger.observe(inodes_[i], round * 1000, round * 900, SocketOwner{key, paths[process % o_.cgroups]});
    }
    for (const uint64_t inode : closed_) ledger.close(inode, round * 1000, round * 1000, SocketOwner{});
    closed_.clear();
    ledger.end_round();
    std::set<ProcessKey> alive;
    for (uint64_t p = 0; p < o_.processes; ++p)
      alive.insert({static_cast<pid_t>(p + 1000), slot_generation_[p % o_.cgroups]});
    ledger.retain(alive, std::set<std::string>(paths.begin(), paths.end()));
  }

 private:
  Options o_;
  std::vector<uint64_t> slot_generation_;
  std::vector<uint64_t> inodes_;
  std::vector<uint64_t> closed_;
  uint64_t next_inode_ = 1;
  uint64_t next_generation_ = 1;
  uint64_t next_replaced_socket_ = 0;
  uint64_t next_replaced_slot_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"leakwatch ingress-ledger benchmark: memory with a million tracked sockets under churn"};
  app.add_option("--sockets", o.sockets, "Live TCP sockets")->capture_default_str()->check(CLI::Range(1, 5'000'000));
  app.add_option("--processes", o.processes, "Processes holding them")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--cgroups", o.cgroups, "Pod cgroups the processes are in")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  app.add_option("--rounds", o.rounds, "Sampling rounds")->capture_default_str()->check(CLI::Range(1, 1'000));
  CLI11_PARSE(app, argc, argv);

  const double baseline = lw::bench::rss_mib(getpid());
  Node node(o);
  const double with_node = lw::bench::rss_mib(getpid());
  IngressLedger ledger(2 * o.sockets);
  std::cout << lw::bench::machine_description() << "\n\n"
            << fmt::format(
                   "{} sockets, {} processes, {} cgroups; each round {:.0f}% of the sockets closed and opened anew, "
                   "{:.0f}% of "
                   "the pods replaced by new processes in new cgroups\n\n",
                   o.sockets, o.processes, o.cgroups, 100 * o.socket_churn, 100 * o.pod_churn)
            << "| round | tracked sockets | cgroups remembered | ledger RSS (MiB) | bytes per tracked socket | round "
               "(ms) |\n|---:|---:|---:|---:|---:|---:|\n";
  for (uint64_t round = 1; round <= o.rounds; ++round) {
    const auto start = lw::bench::Clock::now();
    node.account(ledger, round);
    const double ms = lw::bench::ms_since(start);
    node.churn();
    if (round == 1 || round % 10 == 0 || round == o.rounds) {
      const double ledger_mib = lw::bench::rss_mib(getpid()) - with_node;
      std::cout << fmt::format("| {} | {} | {} | {:.1f} | {:.0f} | {:.0f} |\n", round, ledger.tracked_sockets(),
                               ledger.tracked_cgroups(), ledger_mib,
                               ledger_mib * 1024 * 1024 / static_cast<double>(ledger.tracked_sockets()), ms);
    }
  }
  std::cout << fmt::format("\nProcess RSS {:.1f} MiB, of which the synthetic node's inputs {:.1f} MiB\n",
                           lw::bench::rss_mib(getpid()), with_node - baseline);
  return 0;
}
