#include "model/ingress_ledger.h"

#include <algorithm>

namespace lw {

void IngressLedger::credit(SocketState& s, uint64_t received, uint64_t consumed) {
  // A socket's counters only grow; clamping guards the totals against a
  // torn read rather than trusting it.
  const uint64_t d_received = received > s.received ? received - s.received : 0;
  const uint64_t d_consumed = consumed > s.consumed ? consumed - s.consumed : 0;
  s.received = std::max(s.received, received);
  s.consumed = std::max(s.consumed, consumed);
  if (d_received == 0 && d_consumed == 0) return;
  if (s.owner.process) {
    auto& p = processes_[*s.owner.process];
    p.received += d_received;
    p.consumed += d_consumed;
  }
  auto& c = cgroups_[s.owner.cgroup];
  c.received += d_received;
  c.consumed += d_consumed;
}

IngressLedger::SocketState* IngressLedger::state_for(uint64_t inode, const SocketOwner& owner) {
  if (auto it = sockets_.find(inode); it != sockets_.end()) return &it->second;
  if (sockets_.size() >= max_sockets_) {
    untracked_++;
    return nullptr;
  }
  SocketState& s = sockets_[inode];
  s.owner = owner;
  return &s;
}

void IngressLedger::observe(uint64_t inode, uint64_t received, uint64_t consumed, const SocketOwner& owner) {
  SocketState* s = state_for(inode, owner);
  if (!s) return;
  // A descriptor passed to another process (fork, SCM_RIGHTS) moves the
  // socket's future bytes to its new owner.
  if (!s->closed) s->owner = owner;
  s->last_round = round_;
  credit(*s, received, consumed);
}

void IngressLedger::close(uint64_t inode, uint64_t received, uint64_t consumed, const SocketOwner& owner) {
  if (inode == kNoInode) {
    // Never had a file, so never seen live: every byte is new, and there is
    // no identity to remember it by (all such sockets share 0).
    SocketState once{.owner = owner};
    credit(once, received, consumed);
    return;
  }
  SocketState* s = state_for(inode, owner);
  if (!s) return;
  s->closed = true;
  s->last_round = round_;
  credit(*s, received, consumed);
}

void IngressLedger::end_round(uint64_t max_idle_rounds) {
  std::erase_if(sockets_, [&](const auto& entry) {
    const SocketState& s = entry.second;
    // A closed socket may still sit in a process's fd table (it got a reset
    // but the process has not called close()); keep it while it is seen.
    if (s.closed) return s.last_round < round_;
    return round_ - s.last_round > max_idle_rounds;
  });
  round_++;
}

IngressTotals IngressLedger::process_totals(const ProcessKey& key) const {
  const auto it = processes_.find(key);
  return it == processes_.end() ? IngressTotals{} : it->second;
}

IngressTotals IngressLedger::cgroup_totals(const std::string& cgroup) const {
  const auto it = cgroups_.find(cgroup);
  return it == cgroups_.end() ? IngressTotals{} : it->second;
}

void IngressLedger::retain_processes(const std::set<ProcessKey>& alive) {
  std::erase_if(processes_, [&](const auto& entry) { return !alive.contains(entry.first); });
}

}  // namespace lw
