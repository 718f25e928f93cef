#include "collect/sock_diag_closes.h"

#include "collect/socket_owners.h"

namespace lw {

DestroyWatch::DestroyWatch() : own_netns_(own_network_namespace().value_or(0)) {
  namespaces_.emplace(own_netns_, Namespace{open_tcp_destroy_listener(), {}, {}});
}

void DestroyWatch::watch(uint64_t netns, std::optional<int> netns_fd) {
  if (namespaces_.contains(netns)) return;
  namespaces_.emplace(netns, Namespace{open_tcp_destroy_listener(netns_fd), {}, {}});
}

void DestroyWatch::identify(uint64_t netns, TcpIdentities tcp) {
  const auto it = namespaces_.find(netns);
  if (it == namespaces_.end()) return;
  it->second.previous = std::exchange(it->second.current, std::move(tcp));
}

void DestroyWatch::keep_only(const std::set<uint64_t>& seen) {
  for (auto it = namespaces_.begin(); it != namespaces_.end();) {
    if (seen.contains(it->first)) {
      ++it;
      continue;
    }
    take(it->second, taken_);
    dropped_by_closed_ += dropped_notifications(it->second.listener.get());
    it = namespaces_.erase(it);
  }
}

void DestroyWatch::take(Namespace& ns, std::vector<CloseEvent>& out) {
  std::vector<DestroyedSocket> destroyed;
  read_tcp_destroys(ns.listener.get(), destroyed);
  received_ += destroyed.size();
  for (auto& d : destroyed) {
    const auto known = [&](const TcpIdentities& tcp) {
      const auto it = tcp.by_cookie.find(d.cookie);
      if (it == tcp.by_cookie.end()) return false;
      d.event.inode = it->second.inode;
      d.event.cgroup_id = it->second.cgroup_id;
      d.event.tgid = it->second.tgid;
      return true;
    };
    if (!known(ns.current) && !known(ns.previous)) d.event.cgroup_id = ns.current.sole_cgroup.value_or(0);
    out.push_back(d.event);
  }
}

void DestroyWatch::drain(std::vector<CloseEvent>& out) {
  out.insert(out.end(), taken_.begin(), taken_.end());
  taken_.clear();
  for (auto& [netns, ns] : namespaces_) take(ns, out);
}

CloseEventSource::Counters DestroyWatch::counters() const {
  uint64_t dropped = dropped_by_closed_;
  for (const auto& [netns, ns] : namespaces_) dropped += dropped_notifications(ns.listener.get());
  return {.sent = received_ + dropped, .socket_buffer_full = dropped};
}

}  // namespace lw
