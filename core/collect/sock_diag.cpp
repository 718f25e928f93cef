#include "collect/sock_diag.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include "util/error.h"

namespace lw {
namespace {

// The kernel's TCP states (include/net/tcp_states.h), as sk_state holds them.
constexpr uint8_t kTcpClose = 7, kTcpCloseWait = 8, kTcpLastAck = 9, kTcpListen = 10, kTcpClosing = 11;
constexpr uint8_t kRcvShutdown = 1;  // RCV_SHUTDOWN in sk_shutdown
// Every state but TIME_WAIT and NEW_SYN_RECV: those are mini-sockets no
// file descriptor ever holds.
constexpr uint32_t kStatesHeldByFiles = ~((1u << 6) | (1u << 12));

template <typename T>
std::optional<T> read_struct(std::span<const std::byte> bytes) {
  if (bytes.size() < sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

// Calls on_attribute(type, payload) for each netlink attribute in bytes.
template <typename OnAttribute>
void for_each_attribute(std::span<const std::byte> bytes, OnAttribute&& on_attribute) {
  while (bytes.size() >= sizeof(nlattr)) {
    nlattr header;
    std::memcpy(&header, bytes.data(), sizeof(header));
    if (header.nla_len < sizeof(nlattr) || header.nla_len > bytes.size()) return;
    on_attribute(header.nla_type & NLA_TYPE_MASK, bytes.subspan(sizeof(nlattr), header.nla_len - sizeof(nlattr)));
    bytes = bytes.subspan(std::min<size_t>(NLA_ALIGN(header.nla_len), bytes.size()));
  }
}

// sk_meminfo: the same sk_* fields the iterator reads, under the same names.
void read_meminfo(std::span<const std::byte> attribute, SocketRecord& r) {
  std::array<uint32_t, SK_MEMINFO_VARS> m{};
  std::memcpy(m.data(), attribute.data(), std::min(attribute.size(), sizeof(m)));
  r.rmem_alloc = m[SK_MEMINFO_RMEM_ALLOC];
  r.rcvbuf = static_cast<int32_t>(m[SK_MEMINFO_RCVBUF]);
  r.wmem_alloc = m[SK_MEMINFO_WMEM_ALLOC];
  r.sndbuf = static_cast<int32_t>(m[SK_MEMINFO_SNDBUF]);
  r.forward_alloc = static_cast<int32_t>(m[SK_MEMINFO_FWD_ALLOC]);
  r.wmem_queued = m[SK_MEMINFO_WMEM_QUEUED];
  r.drops = m[SK_MEMINFO_DROPS];
}

// The iterator's rule (bpf/tcp_payload.bpf.h) from what sock_diag shows:
// the peer's FIN counts as one byte of bytes_received and of the receive
// queue. sk_flags is not reported; a FIN was received in the states that
// only a FIN leads to, and in CLOSE when the receive side was shut after
// data (a reset after data is counted as a FIN there: one byte short).
bool peer_fin_received(uint8_t state, uint8_t shutdown, uint64_t bytes_received) {
  if (state == kTcpCloseWait || state == kTcpLastAck || state == kTcpClosing) return true;
  return state == kTcpClose && (shutdown & kRcvShutdown) && bytes_received > 0;
}

void read_tcp(const inet_diag_msg& msg, const std::optional<tcp_info>& info, uint8_t shutdown, SocketRecord& r) {
  r.flags |= LW_SOCK_IS_TCP;
  // For a listener, sock_diag's queue fields are its accept queue.
  if (r.state == kTcpListen) {
    r.accept_queue = msg.idiag_rqueue;
    r.accept_queue_limit = msg.idiag_wqueue;
    return;
  }
  r.unacked = msg.idiag_wqueue;  // write_seq - snd_una
  if (!info) return;
  // A FIN without a byte counted for it cannot come from the kernel; never wrap.
  const bool fin = peer_fin_received(r.state, shutdown, info->tcpi_bytes_received) && info->tcpi_bytes_received > 0;
  r.bytes_received = info->tcpi_bytes_received - (fin ? 1 : 0);
  r.bytes_acked = info->tcpi_bytes_acked;
  r.unread = msg.idiag_rqueue - (fin && msg.idiag_rqueue > 0 ? 1 : 0);  // rcv_nxt - copied_seq
  if (r.state != kTcpClose) {
    r.last_rcv_age_ms = info->tcpi_last_data_recv;
    r.flags |= LW_SOCK_RCV_AGE_KNOWN;
  }
}

// One request of a dump, sent whole.
template <typename Request>
void send_dump_request(int fd, const Request& request) {
  struct {
    nlmsghdr header;
    Request request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request = request;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  while (sendto(fd, &message, sizeof(message), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    throw Error(ErrorKind::io, fmt::format("sock_diag request failed: {}", std::strerror(err)), err);
  }
}

// Reads a dump's replies to the end, handing each message's payload to
// on_message; `what` names the dump in errors.
template <typename OnMessage>
void read_dump(int fd, std::string_view what, OnMessage&& on_message) {
  // Dumps come in batches of up to 32 KiB; a larger buffer lets the kernel
  // fill each reply fully.
  std::vector<std::byte> buffer(64 * 1024);
  for (;;) {
    const ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      throw Error(ErrorKind::io, fmt::format("reading the sock_diag dump of {} failed: {}", what, std::strerror(err)),
                  err);
    }
    if (n == 0) return;
    std::span<const std::byte> rest(buffer.data(), static_cast<size_t>(n));
    while (rest.size() >= sizeof(nlmsghdr)) {
      const auto header = *read_struct<nlmsghdr>(rest);
      if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > rest.size()) break;
      const auto payload = rest.subspan(sizeof(nlmsghdr), header.nlmsg_len - sizeof(nlmsghdr));
      if (header.nlmsg_type == NLMSG_DONE) return;
      if (header.nlmsg_type == NLMSG_ERROR) {
        const auto error = read_struct<nlmsgerr>(payload);
        const int err = error ? -error->error : EPROTO;
        throw Error(ErrorKind::io,
                    fmt::format("the kernel refused the sock_diag dump of {}: {} (is its diag module available?)", what,
                                std::strerror(err)),
                    err);
      }
      on_message(payload);
      rest = rest.subspan(std::min<size_t>(NLMSG_ALIGN(header.nlmsg_len), rest.size()));
    }
  }
}

void dump_inet(int fd, uint8_t family, uint8_t protocol, std::vector<SocketRecord>& out) {
  inet_diag_req_v2 request{};
  request.sdiag_family = family;
  request.sdiag_protocol = protocol;
  request.idiag_ext = (1u << (INET_DIAG_INFO - 1)) | (1u << (INET_DIAG_SKMEMINFO - 1));
  request.idiag_states = kStatesHeldByFiles;
  send_dump_request(fd, request);
  const auto what = fmt::format("{}{}", protocol == IPPROTO_TCP ? "tcp" : "udp", family == AF_INET6 ? "6" : "");
  read_dump(fd, what, [&](std::span<const std::byte> payload) {
    if (auto r = parse_inet_diag(payload, protocol)) out.push_back(*r);
  });
}

void dump_unix(int fd, std::vector<SocketRecord>& out) {
  unix_diag_req request{};
  request.sdiag_family = AF_UNIX;
  request.udiag_states = ~0u;
  request.udiag_show = UDIAG_SHOW_MEMINFO | UDIAG_SHOW_RQLEN;
  send_dump_request(fd, request);
  read_dump(fd, "unix", [&](std::span<const std::byte> payload) {
    if (auto r = parse_unix_diag(payload)) out.push_back(*r);
  });
}

int sock_diag_socket() {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) {
    const int err = errno;
    throw Error(ErrorKind::io, fmt::format("opening a sock_diag netlink socket failed: {}", std::strerror(err)), err);
  }
  return fd;
}

}  // namespace

std::optional<SocketRecord> parse_inet_diag(std::span<const std::byte> payload, uint8_t protocol) {
  const auto msg = read_struct<inet_diag_msg>(payload);
  if (!msg) return std::nullopt;
  SocketRecord r{};
  r.inode = msg->idiag_inode;
  r.family = msg->idiag_family;
  r.type = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
  r.protocol = protocol;
  r.state = msg->idiag_state;
  r.local_port = ntohs(msg->id.idiag_sport);
  r.remote_port = ntohs(msg->id.idiag_dport);
  std::memcpy(r.local_addr, msg->id.idiag_src, LW_ADDR_LEN);
  std::memcpy(r.remote_addr, msg->id.idiag_dst, LW_ADDR_LEN);
  if (r.family == AF_INET) {
    // Only the first word is the address; the rest is not cleared everywhere.
    std::memset(r.local_addr + 4, 0, LW_ADDR_LEN - 4);
    std::memset(r.remote_addr + 4, 0, LW_ADDR_LEN - 4);
  }
  std::optional<tcp_info> info;
  uint8_t shutdown = 0;
  for_each_attribute(payload.subspan(NLMSG_ALIGN(sizeof(inet_diag_msg))),
                     [&](uint16_t type, std::span<const std::byte> value) {
                       if (type == INET_DIAG_SKMEMINFO) {
                         read_meminfo(value, r);
                       } else if (type == INET_DIAG_INFO) {
                         // Older kernels send a shorter tcp_info: the rest stays 0.
                         info.emplace();
                         std::memset(&*info, 0, sizeof(tcp_info));
                         std::memcpy(&*info, value.data(), std::min(value.size(), sizeof(tcp_info)));
                       } else if (type == INET_DIAG_SHUTDOWN && !value.empty()) {
                         shutdown = static_cast<uint8_t>(value[0]);
                       }
                     });
  if (protocol == IPPROTO_TCP) read_tcp(*msg, info, shutdown, r);
  return r;
}

std::optional<SocketRecord> parse_unix_diag(std::span<const std::byte> payload) {
  const auto msg = read_struct<unix_diag_msg>(payload);
  if (!msg) return std::nullopt;
  SocketRecord r{};
  r.inode = msg->udiag_ino;
  r.family = AF_UNIX;
  r.type = msg->udiag_type;
  r.state = msg->udiag_state;
  for_each_attribute(payload.subspan(NLMSG_ALIGN(sizeof(unix_diag_msg))),
                     [&](uint16_t type, std::span<const std::byte> value) {
                       if (type == UNIX_DIAG_MEMINFO) {
                         read_meminfo(value, r);
                       } else if (type == UNIX_DIAG_RQLEN && is_unix_stream_end(r)) {
                         // unix_inq_len(): what SIOCINQ answers. A listener's
                         // rqueue counts connections instead.
                         if (const auto lengths = read_struct<unix_diag_rqlen>(value)) r.unread = lengths->udiag_rqueue;
                       }
                     });
  return r;
}

OwnedFd open_sock_diag(std::optional<int> netns_fd) {
  if (!netns_fd) return OwnedFd(sock_diag_socket());
  // setns() moves only the calling thread; a thread of its own enters the
  // namespace, makes the socket there and ends, so ours never moves.
  int fd = -1;
  int err = 0;
  std::string failure;
  std::thread([&] {
    if (setns(*netns_fd, CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    try {
      fd = sock_diag_socket();
    } catch (const Error& e) {
      err = e.sys_errno();
      failure = e.what();
    }
  }).join();
  if (fd >= 0) return OwnedFd(fd);
  if (!failure.empty()) throw Error(ErrorKind::io, failure, err);
  throw Error(err == EPERM ? ErrorKind::no_privilege : ErrorKind::io,
              fmt::format("entering a network namespace failed: {}{}", std::strerror(err),
                          err == EPERM ? " (it needs CAP_SYS_ADMIN)" : ""),
              err);
}

std::vector<SocketRecord> dump_sockets(int diag_fd) {
  std::vector<SocketRecord> records;
  for (const uint8_t family : {AF_INET, AF_INET6}) {
    for (const uint8_t protocol : {IPPROTO_TCP, IPPROTO_UDP}) dump_inet(diag_fd, family, protocol, records);
  }
  dump_unix(diag_fd, records);
  return records;
}

}  // namespace lw
