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
#include <exception>
#include <functional>
#include <thread>

#include "util/error.h"

namespace lw {
namespace {

// The kernel's TCP states (include/net/tcp_states.h), as sk_state holds them.
constexpr uint8_t kTcpClose = 7, kTcpCloseWait = 8, kTcpLastAck = 9, kTcpListen = 10, kTcpClosing = 11;
constexpr uint8_t kRcvShutdown = 1, kShutdownBoth = 3;  // RCV_SHUTDOWN, SHUTDOWN_MASK in sk_shutdown
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

// An inet message's attributes, as far as we read them.
struct InetAttributes {
  std::optional<tcp_info> info;
  std::optional<uint8_t> shutdown;
  std::optional<uint8_t> protocol;
  std::optional<uint64_t> cgroup_id;
  std::span<const std::byte> meminfo;
};

InetAttributes read_inet_attributes(std::span<const std::byte> payload) {
  InetAttributes a;
  for_each_attribute(payload.subspan(NLMSG_ALIGN(sizeof(inet_diag_msg))),
                     [&](uint16_t type, std::span<const std::byte> value) {
                       if (type == INET_DIAG_SKMEMINFO) {
                         a.meminfo = value;
                       } else if (type == INET_DIAG_INFO) {
                         // Older kernels send a shorter tcp_info: the rest stays 0.
                         a.info.emplace();
                         std::memset(&*a.info, 0, sizeof(tcp_info));
                         std::memcpy(&*a.info, value.data(), std::min(value.size(), sizeof(tcp_info)));
                       } else if (type == INET_DIAG_SHUTDOWN && !value.empty()) {
                         a.shutdown = static_cast<uint8_t>(value[0]);
                       } else if (type == INET_DIAG_PROTOCOL && !value.empty()) {
                         a.protocol = static_cast<uint8_t>(value[0]);
                       } else if (type == INET_DIAG_CGROUP_ID && value.size() >= sizeof(uint64_t)) {
                         a.cgroup_id.emplace();
                         std::memcpy(&*a.cgroup_id, value.data(), sizeof(uint64_t));
                       }
                     });
  return a;
}

SocketRecord inet_record(const inet_diag_msg& msg, const InetAttributes& a, uint8_t protocol, uint8_t shutdown) {
  SocketRecord r{};
  r.inode = msg.idiag_inode;
  r.family = msg.idiag_family;
  r.type = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
  r.protocol = protocol;
  r.state = msg.idiag_state;
  r.local_port = ntohs(msg.id.idiag_sport);
  r.remote_port = ntohs(msg.id.idiag_dport);
  std::memcpy(r.local_addr, msg.id.idiag_src, LW_ADDR_LEN);
  std::memcpy(r.remote_addr, msg.id.idiag_dst, LW_ADDR_LEN);
  if (r.family == AF_INET) {
    // Only the first word is the address; the rest is not cleared everywhere.
    std::memset(r.local_addr + 4, 0, LW_ADDR_LEN - 4);
    std::memset(r.remote_addr + 4, 0, LW_ADDR_LEN - 4);
  }
  if (!a.meminfo.empty()) read_meminfo(a.meminfo, r);
  if (protocol == IPPROTO_TCP) read_tcp(msg, a.info, shutdown, r);
  return r;
}

uint64_t cookie_of(const inet_diag_msg& msg) {
  return msg.id.idiag_cookie[0] | (static_cast<uint64_t>(msg.id.idiag_cookie[1]) << 32);
}

// Folds each listed TCP socket into what the dump says of them all.
class IdentityCollector {
 public:
  explicit IdentityCollector(TcpIdentities& out) : out_(out) {}
  void add(const inet_diag_msg& msg, const InetAttributes& a) {
    out_.by_cookie[cookie_of(msg)] = TcpIdentity{.inode = msg.idiag_inode, .cgroup_id = a.cgroup_id.value_or(0)};
    if (mixed_) return;
    if (!a.cgroup_id || (out_.sole_cgroup && *out_.sole_cgroup != *a.cgroup_id)) {
      mixed_ = true;
      out_.sole_cgroup.reset();
      return;
    }
    out_.sole_cgroup = a.cgroup_id;
  }

 private:
  TcpIdentities& out_;
  bool mixed_ = false;  // once several cgroups (or an unknown one) were seen
};

// Calls on_message(type, payload) for each netlink message in bytes while it
// returns true; false when it stopped the walk.
template <typename OnMessage>
bool for_each_message(std::span<const std::byte> bytes, OnMessage&& on_message) {
  while (bytes.size() >= sizeof(nlmsghdr)) {
    const auto header = *read_struct<nlmsghdr>(bytes);
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > bytes.size()) break;
    if (!on_message(header.nlmsg_type, bytes.subspan(sizeof(nlmsghdr), header.nlmsg_len - sizeof(nlmsghdr)))) {
      return false;
    }
    bytes = bytes.subspan(std::min<size_t>(NLMSG_ALIGN(header.nlmsg_len), bytes.size()));
  }
  return true;
}

[[noreturn]] void throw_dump_error(std::string_view what, std::span<const std::byte> payload) {
  const auto error = read_struct<nlmsgerr>(payload);
  const int err = error ? -error->error : EPROTO;
  throw Error(ErrorKind::io,
              fmt::format("the kernel refused the sock_diag dump of {}: {} (is its diag module available?)", what,
                          std::strerror(err)),
              err);
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
    const bool done = !for_each_message({buffer.data(), static_cast<size_t>(n)},
                                        [&](uint16_t type, std::span<const std::byte> payload) {
                                          if (type == NLMSG_DONE) return false;
                                          if (type == NLMSG_ERROR) throw_dump_error(what, payload);
                                          on_message(payload);
                                          return true;
                                        });
    if (done) return;
  }
}

void dump_inet(int fd, uint8_t family, uint8_t protocol, std::vector<SocketRecord>& out,
               IdentityCollector* identities) {
  inet_diag_req_v2 request{};
  request.sdiag_family = family;
  request.sdiag_protocol = protocol;
  request.idiag_ext = (1u << (INET_DIAG_INFO - 1)) | (1u << (INET_DIAG_SKMEMINFO - 1));
  request.idiag_states = kStatesHeldByFiles;
  send_dump_request(fd, request);
  const auto what = fmt::format("{}{}", protocol == IPPROTO_TCP ? "tcp" : "udp", family == AF_INET6 ? "6" : "");
  read_dump(fd, what, [&](std::span<const std::byte> payload) {
    const auto msg = read_struct<inet_diag_msg>(payload);
    if (!msg) return;
    const InetAttributes a = read_inet_attributes(payload);
    out.push_back(inet_record(*msg, a, protocol, a.shutdown.value_or(0)));
    if (identities && protocol == IPPROTO_TCP) identities->add(*msg, a);
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

OwnedFd sock_diag_socket(int flags = 0) {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | flags, NETLINK_SOCK_DIAG);
  if (fd < 0) {
    const int err = errno;
    throw Error(ErrorKind::io, fmt::format("opening a sock_diag netlink socket failed: {}", std::strerror(err)), err);
  }
  return OwnedFd(fd);
}

// A netlink socket answers for the namespace it was made in. setns() moves
// only the calling thread; a thread of its own enters the namespace, makes
// the socket there and ends, so ours never moves.
OwnedFd make_in_namespace(std::optional<int> netns_fd, const std::function<OwnedFd()>& make) {
  if (!netns_fd) return make();
  std::optional<OwnedFd> made;
  std::exception_ptr failure;
  int setns_error = 0;
  std::thread([&] {
    if (setns(*netns_fd, CLONE_NEWNET) != 0) {
      setns_error = errno;
      return;
    }
    try {
      made.emplace(make());
    } catch (const Error&) {
      failure = std::current_exception();
    }
  }).join();
  if (made) return std::move(*made);
  if (failure) std::rethrow_exception(failure);
  throw Error(setns_error == EPERM ? ErrorKind::no_privilege : ErrorKind::io,
              fmt::format("entering a network namespace failed: {}{}", std::strerror(setns_error),
                          setns_error == EPERM ? " (it needs CAP_SYS_ADMIN)" : ""),
              setns_error);
}

// Large enough for tens of thousands of notifications between two drains
// 100 ms apart; the kernel doubles it for its own bookkeeping.
constexpr int kDestroyBufferBytes = 16 << 20;

// SO_RCVBUFFORCE passes net.core.rmem_max with CAP_NET_ADMIN; without it,
// SO_RCVBUF is capped there.
void raise_receive_buffer(int fd) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kDestroyBufferBytes, sizeof(kDestroyBufferBytes)) == 0) return;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kDestroyBufferBytes, sizeof(kDestroyBufferBytes));
}

OwnedFd tcp_destroy_listener() {
  OwnedFd fd = sock_diag_socket(SOCK_NONBLOCK);
  raise_receive_buffer(fd.get());
  // Bound, the socket gets a port id of its own: the kernel sends its
  // notifications from port 0 and skips a listener whose port id is the
  // sender's (do_one_broadcast), as an unbound one's is.
  sockaddr_nl self{};
  self.nl_family = AF_NETLINK;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&self), sizeof(self)) != 0) {
    const int err = errno;
    throw Error(ErrorKind::io, fmt::format("binding a sock_diag netlink socket failed: {}", std::strerror(err)), err);
  }
  for (const int group : {SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET6_TCP_DESTROY}) {
    if (setsockopt(fd.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) != 0) {
      const int err = errno;
      throw Error(err == EPERM || err == EACCES ? ErrorKind::no_privilege : ErrorKind::io,
                  fmt::format("joining sock_diag's TCP destroy notifications failed: {}", std::strerror(err)), err);
    }
  }
  return fd;
}

}  // namespace

std::optional<SocketRecord> parse_inet_diag(std::span<const std::byte> payload, uint8_t protocol) {
  const auto msg = read_struct<inet_diag_msg>(payload);
  if (!msg) return std::nullopt;
  const InetAttributes a = read_inet_attributes(payload);
  return inet_record(*msg, a, protocol, a.shutdown.value_or(0));
}

std::optional<DestroyedSocket> parse_tcp_destroy(std::span<const std::byte> payload) {
  const auto msg = read_struct<inet_diag_msg>(payload);
  if (!msg || (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6)) return std::nullopt;
  const InetAttributes a = read_inet_attributes(payload);
  if (!a.info || a.protocol.value_or(IPPROTO_TCP) != IPPROTO_TCP) return std::nullopt;
  // The kernel shuts both directions of every socket it destroys
  // (tcp_close(), tcp_done()) and does not send sk_shutdown here.
  const SocketRecord r = inet_record(*msg, a, IPPROTO_TCP, kShutdownBoth);
  DestroyedSocket d;
  d.cookie = cookie_of(*msg);
  d.event.bytes_received = r.bytes_received;
  d.event.bytes_consumed = r.bytes_received - std::min<uint64_t>(r.unread, r.bytes_received);
  d.event.bytes_acked = r.bytes_acked;
  d.event.family = r.family;
  d.event.old_state = r.state;
  d.event.local_port = r.local_port;
  d.event.remote_port = r.remote_port;
  std::memcpy(d.event.remote_addr, r.remote_addr, LW_ADDR_LEN);
  return d;
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
                       } else if (type == UNIX_DIAG_RQLEN) {
                         const auto lengths = read_struct<unix_diag_rqlen>(value);
                         if (!lengths) return;
                         // A listener's lengths are its queue of connections
                         // and the backlog; an end's rqueue is unix_inq_len(),
                         // what SIOCINQ answers.
                         if (is_unix_listener(r)) {
                           r.accept_queue = lengths->udiag_rqueue;
                           r.accept_queue_limit = lengths->udiag_wqueue;
                         } else if (is_unix_stream_end(r)) {
                           r.unread = lengths->udiag_rqueue;
                         }
                       }
                     });
  return r;
}

OwnedFd open_sock_diag(std::optional<int> netns_fd) {
  return make_in_namespace(netns_fd, [] { return sock_diag_socket(); });
}

OwnedFd open_tcp_destroy_listener(std::optional<int> netns_fd) {
  return make_in_namespace(netns_fd, tcp_destroy_listener);
}

void read_tcp_destroys(int listener_fd, std::vector<DestroyedSocket>& out) {
  // One notification per datagram, each well under this.
  std::vector<std::byte> buffer(8192);
  for (;;) {
    const ssize_t n = recv(listener_fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) {
      // ENOBUFS: some were dropped, counted by the kernel (dropped_notifications).
      if (errno == EINTR || errno == ENOBUFS) continue;
      if (errno == EAGAIN) return;
      const int err = errno;
      throw Error(ErrorKind::io,
                  fmt::format("reading sock_diag's TCP destroy notifications failed: {}", std::strerror(err)), err);
    }
    for_each_message({buffer.data(), static_cast<size_t>(n)}, [&](uint16_t type, std::span<const std::byte> payload) {
      if (type != SOCK_DIAG_BY_FAMILY) return true;
      if (auto d = parse_tcp_destroy(payload)) out.push_back(*d);
      return true;
    });
  }
}

uint64_t dropped_notifications(int listener_fd) {
  std::array<uint32_t, SK_MEMINFO_VARS> meminfo{};
  socklen_t length = sizeof(meminfo);
  if (getsockopt(listener_fd, SOL_SOCKET, SO_MEMINFO, meminfo.data(), &length) != 0) {
    const int err = errno;
    throw Error(ErrorKind::io, fmt::format("reading a netlink socket's drops failed: {}", std::strerror(err)), err);
  }
  return meminfo[SK_MEMINFO_DROPS];
}

std::vector<SocketRecord> dump_sockets(int diag_fd, TcpIdentities* tcp) {
  std::vector<SocketRecord> records;
  std::optional<IdentityCollector> identities;
  if (tcp) identities.emplace(*tcp);
  for (const uint8_t family : {AF_INET, AF_INET6}) {
    for (const uint8_t protocol : {IPPROTO_TCP, IPPROTO_UDP}) {
      dump_inet(diag_fd, family, protocol, records, identities ? &*identities : nullptr);
    }
  }
  dump_unix(diag_fd, records);
  return records;
}

}  // namespace lw
