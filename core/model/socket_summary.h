// Aggregates one process's socket records into what a person asks first:
// how much the kernel holds, in which sockets, for which remote endpoints.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/socket_record.h"
#include "model/stream_positions.h"

namespace lw {

// Name -> count, searchable by string_view.
using Counts = std::map<std::string, uint64_t, std::less<>>;

// Connected inet sockets that share a peer. Outbound connections are grouped
// by remote address and port; accepted (inbound) ones by remote address and
// the local listening port, since their remote ports are ephemeral.
struct EndpointGroup {
  std::string peer;  // "10.0.0.7:8000" (outbound) or "10.0.0.7" (inbound)
  bool inbound = false;
  uint16_t local_port = 0;  // the listening port, for inbound groups
  uint64_t connections = 0;
  Counts states;  // TCP state name -> count; "" for UDP
  uint64_t receive_queue_bytes = 0;
  uint64_t send_queue_bytes = 0;
  uint64_t unread_bytes = 0;
  uint64_t max_unread_bytes = 0;  // the largest backlog of a single socket
  // The longest time any socket of the group has gone without data, in ms;
  // nullopt when no socket of the group tells it.
  std::optional<uint64_t> max_idle_ms;
  // Sockets holding unread data whose read position has stood still for at
  // least the stall threshold (known only across samples: see StallRule).
  uint64_t stalled_sockets = 0;
  uint64_t stalled_unread_bytes = 0;
  double max_stalled_seconds = 0;
  // Sockets holding data for a peer that has acknowledged nothing for the
  // stall threshold: stalled peers, slow consumers (the same StallRule).
  uint64_t stalled_peers = 0;
  uint64_t stalled_peer_bytes = 0;  // written, not acknowledged
  double max_peer_stalled_seconds = 0;
};

// "10.0.0.7:8000" for outbound groups, "10.0.0.7->:8080" for inbound ones:
// the name an endpoint has in metrics and findings.
std::string endpoint_label(const EndpointGroup& group);

// A listener's queue of connections the process has not accepted yet: the
// mark of too few workers for the connections that arrive (gunicorn behind
// nginx listens on TCP or on a unix socket).
struct ListenerQueue {
  uint16_t port = 0;     // TCP
  uint64_t waiting = 0;  // connections accepted by the kernel, not yet by the process
  // listen()'s backlog, capped by somaxconn. Past limit + 1, TCP drops SYNs
  // and a unix connect() blocks or fails with EAGAIN.
  uint64_t limit = 0;
  // Unix: the path it is bound to ("@name" for an abstract one), or
  // "socket:[INODE]" until the path is known (UnixListenerPaths).
  std::string path = {};
  uint64_t unix_inode = 0;  // unix: the socket, by which its path is looked up
};

// ":8000" for a TCP listener, its path for a unix one: the listener's name
// in findings, and the one identity analysis compares.
std::string listener_name(const ListenerQueue& q);

// Adds g's sockets and bytes into `into`; an empty `into` takes g's name.
void merge_endpoint_group(EndpointGroup& into, const EndpointGroup& g);

// counts[key], 0 when absent.
uint64_t count_of(const Counts& counts, std::string_view key);
// TCP connections: TCP sockets in any state but LISTEN.
uint64_t tcp_connections(const Counts& by_tcp_state);

struct SocketSummary {
  // A socket held by several descriptors (dup(), or inherited across fork())
  // is one socket: counted, summed and listed once.
  uint64_t sockets = 0;
  uint64_t descriptors = 0;  // file descriptors holding them
  uint64_t receive_queue_bytes = 0;
  uint64_t send_queue_bytes = 0;
  uint64_t unread_bytes = 0;  // TCP
  uint64_t sockets_with_unread = 0;
  // Bytes waiting at the reading ends of unix stream connections; their
  // memory is charged to the writer's send queue, wherever the writer is.
  uint64_t unix_unread_bytes = 0;
  uint64_t unix_sockets_with_unread = 0;
  // Packets the kernel dropped at their receive side (sk_drops: a UDP
  // socket's full buffer, TCP segments refused under memory pressure), over
  // the sockets held now: it falls when such a socket closes.
  uint64_t drops = 0;
  Counts by_kind;       // socket_kind() -> count
  Counts by_tcp_state;  // tcp_state_name() -> count
  // Sorted by queued bytes, then connections; at most top_endpoints entries.
  std::vector<EndpointGroup> endpoints;
  uint64_t endpoints_total = 0;   // distinct groups before the top_endpoints cut
  EndpointGroup other_endpoints;  // everything past the cut, summed
  // TCP and unix listeners, most waiting first; at most top_endpoints entries.
  std::vector<ListenerQueue> listeners;
  uint64_t accept_queue = 0;  // connections waiting on all listeners
  // TCP connections that received no data for the StallRule's time or
  // longer: a leaked connection carries nothing, a pooled or WebSocket one
  // does. nullopt without a StallRule, or when a connection's last receive
  // time is unknown.
  std::optional<uint64_t> idle_connections;
  // Sorted by queued bytes (receive + send), then unread; at most top_sockets.
  std::vector<SocketRecord> top_sockets;
};

// top_endpoints bounds the endpoint list; top_sockets the single-socket list
// (0 skips it: ranking single sockets means copying every record). With a
// StallRule, endpoint groups count their stalled readers.
SocketSummary summarize_sockets(std::span<const SocketRecord> records, size_t top_endpoints, size_t top_sockets,
                                const StallRule* stalls = nullptr);
// The records of several processes (a cgroup's) taken as one, without
// copying them: a socket several of them hold is counted once.
SocketSummary summarize_socket_parts(std::span<const std::span<const SocketRecord>> parts, size_t top_endpoints,
                                     size_t top_sockets, const StallRule* stalls = nullptr);

}  // namespace lw
