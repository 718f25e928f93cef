// The kernel's sock_diag netlink interface: the socket backend where BPF is
// refused. One dump lists every TCP and UDP socket (IPv4 and IPv6) and every
// unix socket of one network namespace, with the same kernel fields the
// iterator reads (queues, tcp_info's byte counters, sk_meminfo), the way
// `ss -tmpi` reads them. Who holds each socket comes from /proc
// (socket_owners.h), not from here.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "leakwatch_abi.h"
#include "model/socket_record.h"
#include "util/owned_fd.h"

namespace lw {

// A sock_diag socket in the caller's network namespace, or, given the
// descriptor of a namespace (/proc/PID/ns/net), in that one: a netlink socket
// answers for the namespace it was created in. Entering another namespace
// needs CAP_SYS_ADMIN; without it this throws lw::Error(no_privilege).
OwnedFd open_sock_diag(std::optional<int> netns_fd = std::nullopt);

// What a dump says of its namespace's TCP sockets beyond their records, for
// their destroy notifications, which name a socket by its cookie only.
struct TcpIdentity {
  uint64_t inode = 0;
  uint64_t cgroup_id = 0;  // cgroup v2 id the socket was created in; 0 when not reported
  uint32_t tgid = 0;       // a holder, as the pass joins it; 0 from the dump
};
struct TcpIdentities {
  std::unordered_map<uint64_t, TcpIdentity> by_cookie;
  // The cgroup (v2 id) every listed TCP socket was created in; nullopt when
  // they are in several, none was listed, or the kernel (before 5.7) does
  // not report a socket's cgroup.
  std::optional<uint64_t> sole_cgroup;
};

// Every TCP, UDP and unix socket of the diag socket's namespace, tgid and fd
// left 0, and, when asked, the TCP sockets' identities. Sockets in no table
// of the kernel (never bound nor connected) and sockets of other kinds (raw,
// netlink, packet) are not in it. Throws lw::Error(io) when the kernel
// refuses a dump (a diag module missing).
std::vector<SocketRecord> dump_sockets(int diag_fd, TcpIdentities* tcp = nullptr);

// One message of an inet (TCP or UDP, by `protocol`) or unix dump, after its
// nlmsghdr: nullopt when it is cut short. Pure, for the fuzzer and the tests.
std::optional<SocketRecord> parse_inet_diag(std::span<const std::byte> payload, uint8_t protocol);
std::optional<SocketRecord> parse_unix_diag(std::span<const std::byte> payload);

// A TCP socket's destroy notification (net/core/sock_diag.c,
// sock_diag_broadcast_destroy): sent as the kernel frees the socket, in the
// socket's network namespace only, with what inet_diag_handler_get_info
// fills: the 4-tuple, the cookie, state CLOSE, the queues and tcp_info;
// never the inode, the owner or the cgroup.
struct DestroyedSocket {
  uint64_t cookie = 0;
  // The socket's final counters, as lw_close_event has them; inode, tgid
  // and cgroup_id 0 (for whoever knows the cookie to fill in), old_state
  // CLOSE (the notification does not say which state it left).
  lw_close_event event{};
};
// One destroy notification after its nlmsghdr: nullopt when it is cut short
// or is not a TCP socket's. Pure, for the fuzzer and the tests.
std::optional<DestroyedSocket> parse_tcp_destroy(std::span<const std::byte> payload);

// A sock_diag socket joined to the TCP destroy notifications (IPv4 and IPv6)
// of the caller's network namespace or of netns_fd's, non-blocking, with a
// receive buffer raised as far as we are allowed. Throws
// lw::Error(no_privilege) when joining the groups is refused.
OwnedFd open_tcp_destroy_listener(std::optional<int> netns_fd = std::nullopt);

// Appends the notifications waiting on a destroy listener to out; never
// blocks. Messages of any other kind are skipped.
void read_tcp_destroys(int listener_fd, std::vector<DestroyedSocket>& out);

// Notifications the kernel dropped since the listener was opened because
// its receive buffer was full (sk_drops, read with SO_MEMINFO).
uint64_t dropped_notifications(int listener_fd);

}  // namespace lw
