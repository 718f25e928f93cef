// Exact TCP ingress per process and per cgroup. Snapshots see live sockets;
// close events carry the final counters of sockets that closed, including
// those that opened and closed between two snapshots. The ledger remembers
// each socket's last counters by inode and adds only the difference, so a
// byte is counted once however many times its socket is seen, and totals
// never go backwards when sockets close or processes exit.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "model/node_sample.h"

namespace lw {

// Who a socket's bytes are credited to.
struct SocketOwner {
  std::optional<ProcessKey> process;  // nullopt: only the cgroup is known
  std::string cgroup;                 // memory cgroup path; may be empty
};

class IngressLedger {
 public:
  // max_sockets bounds memory. When it is reached, new live sockets are not
  // tracked (counted in untracked_sockets) and their bytes are credited when
  // they close: forgetting a live socket instead would credit its bytes a
  // second time when it is seen again.
  explicit IngressLedger(size_t max_sockets = 1u << 20) : max_sockets_(max_sockets) {}
  // Sockets hold iterators into the accounts, processes_.end() among them:
  // a copy or a move would leave them pointing into another ledger.
  IngressLedger(const IngressLedger&) = delete;
  IngressLedger& operator=(const IngressLedger&) = delete;

  // A live socket seen in a snapshot with its current counters.
  void observe(uint64_t inode, uint64_t received, uint64_t consumed, const SocketOwner& owner);
  // The inode of a socket closed before any process held it (reset while
  // in the accept queue): each such close is a socket of its own.
  static constexpr uint64_t kNoInode = 0;
  // A socket's final counters. owner is used only for sockets never observed.
  void close(uint64_t inode, uint64_t received, uint64_t consumed, const SocketOwner& owner);
  // Ends a sampling round: closed sockets not seen again are forgotten, and
  // so are sockets unseen for max_idle_rounds (their close event was lost).
  void end_round(uint32_t max_idle_rounds = 120);

  IngressTotals process_totals(const ProcessKey& key) const;
  IngressTotals cgroup_totals(const std::string& cgroup) const;
  // Forgets the totals of processes that are gone and of cgroups that no
  // longer hold a targeted process, once no tracked socket is theirs. A
  // cgroup's totals outlive its recycled workers as long as one of its
  // processes is there each round.
  void retain(const std::set<ProcessKey>& alive_processes, const std::set<std::string>& alive_cgroups);

  // Whether a socket was observed or closed and is still remembered.
  bool knows(uint64_t inode) const { return sockets_.contains(inode); }
  size_t tracked_sockets() const { return sockets_.size(); }
  size_t tracked_cgroups() const { return cgroups_.size(); }
  // Live sockets of the last round the full ledger could not track.
  uint64_t untracked_sockets() const { return untracked_last_round_; }

 private:
  // Totals, and how many tracked sockets are credited to them: a socket
  // refers to its owners' accounts, so a cgroup path is stored once, not
  // once per socket.
  struct Account {
    IngressTotals totals;
    uint64_t sockets = 0;
  };
  using ProcessAccounts = std::map<ProcessKey, Account>;
  using CgroupAccounts = std::map<std::string, Account, std::less<>>;

  struct SocketState {
    uint64_t received = 0;
    uint64_t consumed = 0;
    ProcessAccounts::iterator process;  // processes_.end(): only the cgroup is known
    CgroupAccounts::iterator cgroup;
    uint32_t last_round = 0;
    bool closed = false;
  };

  void credit(SocketState& s, uint64_t received, uint64_t consumed);
  // Makes `owner` the socket's owner, moving it from its accounts.
  void bind(SocketState& s, const SocketOwner& owner);
  void unbind(SocketState& s);
  // nullptr when the ledger is full and the socket is new.
  SocketState* state_for(uint64_t inode, const SocketOwner& owner);

  size_t max_sockets_;
  uint32_t round_ = 1;
  uint64_t untracked_ = 0;
  uint64_t untracked_last_round_ = 0;
  std::unordered_map<uint64_t, SocketState> sockets_;
  ProcessAccounts processes_;
  CgroupAccounts cgroups_;
};

}  // namespace lw
