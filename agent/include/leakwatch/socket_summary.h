// Aggregates one process's socket records into what a person asks first:
// how much the kernel holds, in which sockets, for which remote endpoints.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
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
  // Sockets holding unread data whose read position has stood still for a
  // while (filled by the sampler, which sees read positions over time).
  uint64_t stalled_sockets = 0;
  uint64_t stalled_unread_bytes = 0;
  double max_stalled_seconds = 0;
};

// "10.0.0.7:8000" for outbound groups, "10.0.0.7->:8080" for inbound ones:
// the name an endpoint has in metrics and findings.
std::string endpoint_label(const EndpointGroup& group);

// Names each connected socket's endpoint group the way summarize_sockets
// groups them (it needs the process's listening sockets to tell inbound).
class EndpointNamer {
 public:
  explicit EndpointNamer(std::span<const SocketRecord> records);
  // nullopt for sockets that belong to no group (unconnected, not inet).
  std::optional<std::string> name(const SocketRecord& r) const;

 private:
  std::set<std::pair<uint16_t, uint16_t>> listening_;  // (family, port)
};

struct SocketSummary {
  uint64_t sockets = 0;
  uint64_t receive_queue_bytes = 0;
  uint64_t send_queue_bytes = 0;
  uint64_t unread_bytes = 0;
  uint64_t sockets_with_unread = 0;
  Counts by_kind;       // socket_kind() -> count
  Counts by_tcp_state;  // tcp_state_name() -> count
  // Sorted by queued bytes, then connections; at most top_endpoints entries.
  std::vector<EndpointGroup> endpoints;
  uint64_t endpoints_total = 0;  // distinct groups before the top_endpoints cut
  EndpointGroup other_endpoints; // everything past the cut, summed
  // Sorted by queued bytes (receive + send), then unread; at most top_sockets.
  std::vector<SocketRecord> top_sockets;
};

// top_endpoints bounds the endpoint list; top_sockets the single-socket list
// (0 skips it: ranking single sockets means copying every record).
SocketSummary summarize_sockets(std::span<const SocketRecord> records, size_t top_endpoints, size_t top_sockets);

}  // namespace lw
