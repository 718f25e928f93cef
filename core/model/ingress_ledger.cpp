#include "model/ingress_ledger.h"

#include <algorithm>
#include <utility>

namespace lw {

void IngressLedger::credit(SocketState& s, uint64_t received, uint64_t consumed) {
  // A socket's counters only grow; clamping guards the totals against a
  // torn read rather than trusting it.
  const uint64_t d_received = received > s.received ? received - s.received : 0;
  const uint64_t d_consumed = consumed > s.consumed ? consumed - s.consumed : 0;
  s.received = std::max(s.received, received);
  s.consumed = std::max(s.consumed, consumed);
  if (d_received == 0 && d_consumed == 0) return;
  if (s.process != processes_.end()) {
    s.process->second.totals.received += d_received;
    s.process->second.totals.consumed += d_consumed;
  }
  s.cgroup->second.totals.received += d_received;
  s.cgroup->second.totals.consumed += d_consumed;
}

void IngressLedger::bind(SocketState& s, const SocketOwner& owner) {
  const bool same_process =
      s.process == processes_.end() ? !owner.process : owner.process && s.process->first == *owner.process;
  if (s.cgroup != cgroups_.end() && s.cgroup->first == owner.cgroup && same_process) return;
  unbind(s);
  if (owner.process) {
    s.process = processes_.try_emplace(*owner.process).first;
    s.process->second.sockets++;
  }
  s.cgroup = cgroups_.find(owner.cgroup);
  if (s.cgroup == cgroups_.end()) s.cgroup = cgroups_.emplace(owner.cgroup, Account{}).first;
  s.cgroup->second.sockets++;
}

void IngressLedger::unbind(SocketState& s) {
  if (s.process != processes_.end()) s.process->second.sockets--;
  if (s.cgroup != cgroups_.end()) s.cgroup->second.sockets--;
  s.process = processes_.end();
  s.cgroup = cgroups_.end();
}

IngressLedger::SocketState* IngressLedger::state_for(uint64_t inode, const SocketOwner& owner) {
  if (auto it = sockets_.find(inode); it != sockets_.end()) return &it->second;
  if (sockets_.size() >= max_sockets_) return nullptr;
  SocketState& s = sockets_[inode];
  s.process = processes_.end();
  s.cgroup = cgroups_.end();
  bind(s, owner);
  return &s;
}

void IngressLedger::observe(uint64_t inode, uint64_t received, uint64_t consumed, const SocketOwner& owner) {
  SocketState* s = state_for(inode, owner);
  if (!s) {
    untracked_++;
    return;
  }
  // A descriptor passed to another process (fork, SCM_RIGHTS) moves the
  // socket's future bytes to its new owner.
  if (!s->closed) bind(*s, owner);
  s->last_round = round_;
  credit(*s, received, consumed);
}

void IngressLedger::close(uint64_t inode, uint64_t received, uint64_t consumed, const SocketOwner& owner) {
  SocketState* s = inode == kNoInode ? nullptr : state_for(inode, owner);
  if (!s) {
    // No identity to remember it by (never had a file), or no room: none
    // of its bytes were credited, so all of them are now.
    SocketState once{.process = processes_.end(), .cgroup = cgroups_.end()};
    bind(once, owner);
    credit(once, received, consumed);
    unbind(once);
    return;
  }
  s->closed = true;
  s->last_round = round_;
  credit(*s, received, consumed);
}

void IngressLedger::end_round(uint32_t max_idle_rounds) {
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    SocketState& s = it->second;
    // A closed socket may still sit in a process's fd table (it got a reset
    // but the process has not called close()); keep it while it is seen.
    if (s.closed ? s.last_round < round_ : round_ - s.last_round > max_idle_rounds) {
      unbind(s);
      it = sockets_.erase(it);
    } else {
      ++it;
    }
  }
  untracked_last_round_ = std::exchange(untracked_, 0);
  round_++;
}

IngressTotals IngressLedger::process_totals(const ProcessKey& key) const {
  const auto it = processes_.find(key);
  return it == processes_.end() ? IngressTotals{} : it->second.totals;
}

IngressTotals IngressLedger::cgroup_totals(const std::string& cgroup) const {
  const auto it = cgroups_.find(cgroup);
  return it == cgroups_.end() ? IngressTotals{} : it->second.totals;
}

void IngressLedger::retain(const std::set<ProcessKey>& alive_processes, const std::set<std::string>& alive_cgroups) {
  std::erase_if(processes_,
                [&](const auto& entry) { return entry.second.sockets == 0 && !alive_processes.contains(entry.first); });
  std::erase_if(cgroups_,
                [&](const auto& entry) { return entry.second.sockets == 0 && !alive_cgroups.contains(entry.first); });
}

}  // namespace lw
