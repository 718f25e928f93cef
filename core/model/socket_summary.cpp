#include "model/socket_summary.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace lw {
namespace {

uint64_t queued_bytes(const SocketRecord& r) { return receive_queue_bytes(r) + send_queue_bytes(r); }

// Each socket once: pointers into the records, 8 bytes a socket where a
// copy would be 128.
using Distinct = std::span<const SocketRecord* const>;

std::set<std::pair<uint16_t, uint16_t>> listening_ports(Distinct records) {
  std::set<std::pair<uint16_t, uint16_t>> ports;  // (family, port)
  for (const SocketRecord* r : records) {
    if (is_tcp_listener(*r)) ports.emplace(r->family, r->local_port);
  }
  return ports;
}

void add_to_group(EndpointGroup& g, const SocketRecord& r, const StallRule* stalls) {
  g.connections++;
  const std::string_view state = is_tcp(r) ? tcp_state_name(r.state) : "";
  if (auto it = g.states.find(state); it != g.states.end()) {
    it->second++;
  } else {
    g.states.emplace(state, 1);
  }
  g.receive_queue_bytes += receive_queue_bytes(r);
  g.send_queue_bytes += send_queue_bytes(r);
  g.unread_bytes += r.unread;
  g.max_unread_bytes = std::max<uint64_t>(g.max_unread_bytes, r.unread);
  if (r.flags & LW_SOCK_RCV_AGE_KNOWN) g.max_idle_ms = std::max<uint64_t>(g.max_idle_ms.value_or(0), r.last_rcv_age_ms);
  if (const double still = stalls ? stalls->stalled_seconds(r) : 0; still > 0) {
    g.stalled_sockets++;
    g.stalled_unread_bytes += r.unread;
    g.max_stalled_seconds = std::max(g.max_stalled_seconds, still);
  }
  if (const double still = stalls ? stalls->stalled_peer_seconds(r) : 0; still > 0) {
    g.stalled_peers++;
    g.stalled_peer_bytes += r.unacked;
    g.max_peer_stalled_seconds = std::max(g.max_peer_stalled_seconds, still);
  }
}

// Groups are keyed by raw bytes, so the per-socket cost is a hash of a
// small struct; names are formatted once per group.
struct GroupKey {
  uint16_t family;
  uint16_t remote_port;  // 0 for inbound groups: clients' ports are ephemeral
  uint16_t local_port;   // the listening port for inbound groups, else 0
  uint8_t remote_addr[LW_ADDR_LEN];
  bool operator==(const GroupKey& o) const {
    return family == o.family && remote_port == o.remote_port && local_port == o.local_port &&
           std::memcmp(remote_addr, o.remote_addr, LW_ADDR_LEN) == 0;
  }
};

struct GroupKeyHash {
  size_t operator()(const GroupKey& k) const {
    uint64_t a, b;
    std::memcpy(&a, k.remote_addr, 8);
    std::memcpy(&b, k.remote_addr + 8, 8);
    const uint64_t ports = (uint64_t{k.family} << 32) | (uint64_t{k.remote_port} << 16) | k.local_port;
    return std::hash<uint64_t>{}(a ^ (b * 0x9e3779b97f4a7c15ull) ^ (ports * 0xc2b2ae3d27d4eb4full));
  }
};

std::vector<EndpointGroup> group_by_endpoint(Distinct records, const StallRule* stalls) {
  const auto listening = listening_ports(records);
  std::unordered_map<GroupKey, EndpointGroup, GroupKeyHash> groups;
  for (const SocketRecord* record : records) {
    const SocketRecord& r = *record;
    if (!is_inet(r) || r.remote_port == 0) continue;
    const bool inbound = listening.contains({r.family, r.local_port});
    GroupKey key{r.family, inbound ? uint16_t{0} : r.remote_port, inbound ? r.local_port : uint16_t{0}, {}};
    std::memcpy(key.remote_addr, r.remote_addr, LW_ADDR_LEN);
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) {
      it->second.peer = inbound ? format_address(r.family, r.remote_addr) : remote_endpoint(r);
      it->second.inbound = inbound;
      it->second.local_port = key.local_port;
    }
    add_to_group(it->second, r, stalls);
  }
  std::vector<EndpointGroup> sorted;
  sorted.reserve(groups.size());
  for (auto& [key, group] : groups) sorted.push_back(std::move(group));
  std::sort(sorted.begin(), sorted.end(), [](const EndpointGroup& a, const EndpointGroup& b) {
    return std::make_tuple(b.receive_queue_bytes + b.send_queue_bytes, b.connections, a.peer, a.local_port) <
           std::make_tuple(a.receive_queue_bytes + a.send_queue_bytes, a.connections, b.peer, b.local_port);
  });
  return sorted;
}

std::vector<ListenerQueue> listener_queues(Distinct records, size_t top) {
  std::vector<ListenerQueue> out;
  for (const SocketRecord* r : records) {
    if (is_tcp_listener(*r)) {
      out.push_back({.port = r->local_port, .waiting = r->accept_queue, .limit = r->accept_queue_limit});
    } else if (is_unix_listener(*r)) {
      out.push_back({.waiting = r->accept_queue,
                     .limit = r->accept_queue_limit,
                     .path = fmt::format("socket:[{}]", r->inode),
                     .unix_inode = r->inode});
    }
  }
  // Most waiting first; among equals, TCP listeners before unix ones, so
  // a process's idle unix sockets do not push its TCP ports out of the top.
  std::sort(out.begin(), out.end(), [](const ListenerQueue& a, const ListenerQueue& b) {
    return std::make_tuple(a.waiting, a.path.empty(), b.port, std::string_view(b.path)) >
           std::make_tuple(b.waiting, b.path.empty(), a.port, std::string_view(a.path));
  });
  if (out.size() > top) out.resize(top);
  return out;
}

std::vector<SocketRecord> largest_sockets(Distinct records, size_t top_n) {
  // Sorted by pointer: a process may hold tens of thousands of 128-byte
  // records, of which only top_n are copied.
  std::vector<const SocketRecord*> sorted(records.begin(), records.end());
  const auto by_size = [](const SocketRecord* a, const SocketRecord* b) {
    return std::make_tuple(queued_bytes(*a), a->unread, b->fd) > std::make_tuple(queued_bytes(*b), b->unread, a->fd);
  };
  const size_t n = std::min(top_n, sorted.size());
  std::partial_sort(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(n), sorted.end(), by_size);
  std::vector<SocketRecord> top;
  top.reserve(n);
  for (size_t i = 0; i < n; ++i) top.push_back(*sorted[i]);
  return top;
}

// The connections that received nothing for the stall time; nullopt when
// one of them cannot tell.
std::optional<uint64_t> idle_connections(Distinct records, const StallRule& stalls) {
  uint64_t idle = 0;
  for (const SocketRecord* r : records) {
    if (!is_tcp(*r) || is_tcp_listener(*r)) continue;
    if (!(r->flags & LW_SOCK_RCV_AGE_KNOWN)) return std::nullopt;
    if (r->last_rcv_age_ms >= stalls.stall_after_seconds * 1000) idle++;
  }
  return idle;
}

// One record per socket, by inode, in their order. Only the records that
// may share their socket with another descriptor are remembered (on a node
// of a million sockets, nearly all are the only descriptor of theirs). A
// record without an inode is a socket of its own.
std::vector<const SocketRecord*> one_record_per_socket(std::span<const std::span<const SocketRecord>> parts) {
  std::vector<const SocketRecord*> distinct;
  std::unordered_set<uint64_t> seen;
  for (const auto& part : parts) {
    for (const auto& r : part) {
      if (only_descriptor(r) || r.inode == 0 || seen.insert(r.inode).second) distinct.push_back(&r);
    }
  }
  return distinct;
}

}  // namespace

std::string listener_name(const ListenerQueue& q) { return q.path.empty() ? fmt::format(":{}", q.port) : q.path; }

std::string endpoint_label(const EndpointGroup& g) {
  return g.inbound ? fmt::format("{}->:{}", g.peer, g.local_port) : g.peer;
}

uint64_t tcp_connections(const Counts& by_tcp_state) {
  uint64_t connections = 0;
  for (const auto& [state, count] : by_tcp_state) {
    if (state != "LISTEN") connections += count;
  }
  return connections;
}

uint64_t count_of(const Counts& counts, std::string_view key) {
  const auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}

void merge_endpoint_group(EndpointGroup& into, const EndpointGroup& g) {
  if (into.peer.empty()) {
    into.peer = g.peer;
    into.inbound = g.inbound;
    into.local_port = g.local_port;
  }
  into.stalled_sockets += g.stalled_sockets;
  into.stalled_unread_bytes += g.stalled_unread_bytes;
  into.max_stalled_seconds = std::max(into.max_stalled_seconds, g.max_stalled_seconds);
  into.stalled_peers += g.stalled_peers;
  into.stalled_peer_bytes += g.stalled_peer_bytes;
  into.max_peer_stalled_seconds = std::max(into.max_peer_stalled_seconds, g.max_peer_stalled_seconds);
  into.connections += g.connections;
  for (const auto& [state, count] : g.states) into.states[state] += count;
  into.receive_queue_bytes += g.receive_queue_bytes;
  into.send_queue_bytes += g.send_queue_bytes;
  into.unread_bytes += g.unread_bytes;
  into.max_unread_bytes = std::max(into.max_unread_bytes, g.max_unread_bytes);
  if (g.max_idle_ms) into.max_idle_ms = std::max(into.max_idle_ms.value_or(0), *g.max_idle_ms);
}

SocketSummary summarize_sockets(std::span<const SocketRecord> records, size_t top_endpoints, size_t top_sockets,
                                const StallRule* stalls) {
  const std::span<const SocketRecord> parts[] = {records};
  return summarize_socket_parts(parts, top_endpoints, top_sockets, stalls);
}

SocketSummary summarize_socket_parts(std::span<const std::span<const SocketRecord>> parts, size_t top_endpoints,
                                     size_t top_sockets, const StallRule* stalls) {
  SocketSummary s;
  for (const auto& part : parts) s.descriptors += part.size();
  const auto records = one_record_per_socket(parts);
  // Counted by raw kind and state, named once at the end: naming per socket
  // would dominate the cost on processes with tens of thousands of sockets.
  std::map<std::tuple<uint16_t, uint16_t, uint16_t>, const SocketRecord*> kind_examples;
  std::map<std::tuple<uint16_t, uint16_t, uint16_t>, uint64_t> kinds;
  std::array<uint64_t, 256> tcp_states{};
  for (const SocketRecord* record : records) {
    const SocketRecord& r = *record;
    s.sockets++;
    s.receive_queue_bytes += receive_queue_bytes(r);
    s.send_queue_bytes += send_queue_bytes(r);
    if (is_unix_stream_end(r)) {
      s.unix_unread_bytes += r.unread;
      if (r.unread > 0) s.unix_sockets_with_unread++;
    } else {
      s.unread_bytes += r.unread;
      if (r.unread > 0) s.sockets_with_unread++;
    }
    s.drops += r.drops;
    const auto kind = std::make_tuple(r.family, r.type, r.protocol);
    if (kinds[kind]++ == 0) kind_examples[kind] = &r;
    if (is_tcp(r)) tcp_states[r.state]++;
    s.accept_queue += r.accept_queue;
  }
  for (const auto& [kind, count] : kinds) s.by_kind[socket_kind(*kind_examples[kind])] += count;
  for (size_t state = 0; state < tcp_states.size(); ++state) {
    if (tcp_states[state]) s.by_tcp_state[std::string(tcp_state_name(static_cast<uint8_t>(state)))] = tcp_states[state];
  }
  s.endpoints = group_by_endpoint(records, stalls);
  s.endpoints_total = s.endpoints.size();
  s.other_endpoints.peer = "other";
  for (size_t i = top_endpoints; i < s.endpoints.size(); ++i) merge_endpoint_group(s.other_endpoints, s.endpoints[i]);
  if (s.endpoints.size() > top_endpoints) s.endpoints.resize(top_endpoints);
  s.listeners = listener_queues(records, top_endpoints);
  if (stalls) s.idle_connections = idle_connections(records, *stalls);
  if (top_sockets > 0) s.top_sockets = largest_sockets(records, top_sockets);
  return s;
}

}  // namespace lw
