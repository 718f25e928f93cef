// Aggregates one process's socket records into what a person asks first:
// how much the kernel holds, in which sockets, for which remote endpoints.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "leakwatch/socket_record.h"

namespace lw {

// Name -> count, searchable by string_view.
using Counts = std::map<std::string, uint64_t, std::less<>>;

// Connected inet sockets that share a peer. Outbound connections are grouped
// by remote address and port; accepted (inbound) ones by remote address and
// the local listening port, since their remote ports are ephemeral.
struct EndpointGroup {
  std::string peer;           // "10.0.0.7:8000" (outbound) or "10.0.0.7" (inbound)
  bool inbound = false;
  uint16_t local_port = 0;    // the listening port, for inbound groups
  uint64_t connections = 0;
  Counts states;  // TCP state name -> count; "" for UDP
  uint64_t receive_queue_bytes = 0;
  uint64_t send_queue_bytes = 0;
  uint64_t unread_bytes = 0;
  uint64_t max_unread_bytes = 0;  // the largest backlog of a single socket
  // The longest time any socket of the group has gone without data, in ms;
  // nullopt when no socket of the group tells it.
  std::optional<uint64_t> max_idle_ms;
};

struct SocketSummary {
  uint64_t sockets = 0;
  uint64_t receive_queue_bytes = 0;
  uint64_t send_queue_bytes = 0;
  uint64_t unread_bytes = 0;
  uint64_t sockets_with_unread = 0;
  Counts by_kind;       // socket_kind() -> count
  Counts by_tcp_state;  // tcp_state_name() -> count
  // Sorted by queued bytes, then connections; at most top_n entries.
  std::vector<EndpointGroup> endpoints;
  uint64_t endpoints_total = 0;  // distinct groups before the top_n cut
  EndpointGroup other_endpoints; // everything past the cut, summed
  // Sorted by queued bytes (receive + send), then unread; at most top_n.
  std::vector<SocketRecord> top_sockets;
};

SocketSummary summarize_sockets(std::span<const SocketRecord> records, size_t top_n);

}  // namespace lw
