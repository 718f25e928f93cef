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
#include <vector>

#include "model/socket_record.h"
#include "util/owned_fd.h"

namespace lw {

// A sock_diag socket in the caller's network namespace, or, given the
// descriptor of a namespace (/proc/PID/ns/net), in that one: a netlink socket
// answers for the namespace it was created in. Entering another namespace
// needs CAP_SYS_ADMIN; without it this throws lw::Error(no_privilege).
OwnedFd open_sock_diag(std::optional<int> netns_fd = std::nullopt);

// Every TCP, UDP and unix socket of the diag socket's namespace, tgid and fd
// left 0. Sockets in no table of the kernel (never bound nor connected) and
// sockets of other kinds (raw, netlink, packet) are not in it. Throws
// lw::Error(io) when the kernel refuses a dump (a diag module missing).
std::vector<SocketRecord> dump_sockets(int diag_fd);

// One message of an inet (TCP or UDP, by `protocol`) or unix dump, after its
// nlmsghdr: nullopt when it is cut short. Pure, for the fuzzer and the tests.
std::optional<SocketRecord> parse_inet_diag(std::span<const std::byte> payload, uint8_t protocol);
std::optional<SocketRecord> parse_unix_diag(std::span<const std::byte> payload);

}  // namespace lw
