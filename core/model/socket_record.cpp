#include "model/socket_record.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

namespace lw {

bool is_tcp(const SocketRecord& r) { return (r.flags & LW_SOCK_IS_TCP) != 0; }

bool is_inet(const SocketRecord& r) { return r.family == AF_INET || r.family == AF_INET6; }

namespace {
// Unix sockets take their states from TCP's numbering too.
constexpr uint8_t kListening = 10;
}  // namespace

bool is_tcp_listener(const SocketRecord& r) { return is_tcp(r) && r.state == kListening; }

bool is_unix_listener(const SocketRecord& r) {
  return r.family == AF_UNIX && (r.type == SOCK_STREAM || r.type == SOCK_SEQPACKET) && r.state == kListening;
}

bool is_listener(const SocketRecord& r) { return is_tcp_listener(r) || is_unix_listener(r); }

bool is_unix_stream_end(const SocketRecord& r) {
  return r.family == AF_UNIX && r.type == SOCK_STREAM && r.state != kListening;
}

bool unread_known(const SocketRecord& r) { return is_tcp(r) || is_unix_stream_end(r); }

bool only_descriptor(const SocketRecord& r) { return r.file_refs == 1; }

uint64_t receive_queue_bytes(const SocketRecord& r) { return r.rmem_alloc; }

uint64_t read_position(const SocketRecord& r) { return r.bytes_received - r.unread; }

uint64_t send_queue_bytes(const SocketRecord& r) { return is_tcp(r) ? r.wmem_queued : r.wmem_alloc; }

std::string socket_kind(const SocketRecord& r) {
  const char* v6 = r.family == AF_INET6 ? "6" : "";
  if (r.family == AF_UNIX) {
    switch (r.type) {
      case SOCK_STREAM: return "unix-stream";
      case SOCK_DGRAM: return "unix-dgram";
      case SOCK_SEQPACKET: return "unix-seqpacket";
      default: return "unix";
    }
  }
  if (is_inet(r)) {
    switch (r.protocol) {
      case IPPROTO_TCP: return fmt::format("tcp{}", v6);
      case IPPROTO_UDP: return fmt::format("udp{}", v6);
      case IPPROTO_UDPLITE: return fmt::format("udplite{}", v6);
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6: return fmt::format("icmp{}", v6);
      case IPPROTO_RAW: return fmt::format("raw{}", v6);
      default: return fmt::format("inet{}-proto{}", v6, r.protocol);
    }
  }
  if (r.family == AF_NETLINK) return "netlink";
  if (r.family == AF_PACKET) return "packet";
  return fmt::format("family{}", r.family);
}

std::string_view tcp_state_name(uint8_t state) {
  // Numbering of include/net/tcp_states.h.
  static constexpr std::string_view names[] = {"",          "ESTABLISHED", "SYN_SENT",     "SYN_RECV",      "FIN_WAIT1",
                                               "FIN_WAIT2", "TIME_WAIT",   "CLOSE",        "CLOSE_WAIT",    "LAST_ACK",
                                               "LISTEN",    "CLOSING",     "NEW_SYN_RECV", "BOUND_INACTIVE"};
  return state < std::size(names) ? names[state] : "UNKNOWN";
}

std::string format_address(uint16_t family, const uint8_t (&addr)[LW_ADDR_LEN]) {
  char text[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(family, addr, text, sizeof(text))) return {};
  return text;
}

std::string format_endpoint(uint16_t family, const uint8_t (&addr)[LW_ADDR_LEN], uint16_t port) {
  if (family == AF_INET) return fmt::format("{}:{}", format_address(family, addr), port);
  if (family == AF_INET6) return fmt::format("[{}]:{}", format_address(family, addr), port);
  return {};
}

std::string remote_endpoint(const SocketRecord& r) { return format_endpoint(r.family, r.remote_addr, r.remote_port); }

std::string local_endpoint(const SocketRecord& r) { return format_endpoint(r.family, r.local_addr, r.local_port); }

}  // namespace lw
