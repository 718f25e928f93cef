// sock_diag's TCP destroy notifications as the kernel builds them
// (inet_diag_handler_get_info): inet_diag_msg with no inode, state CLOSE,
// then INET_DIAG_PROTOCOL and INET_DIAG_INFO (tcp_info).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include <cstring>
#include <vector>

#include "collect/sock_diag.h"

namespace lw::test {
namespace {

constexpr uint8_t kTcpClose = 7;

struct Notification {
  uint8_t family = AF_INET;
  uint64_t cookie = 0x1122334455667788;
  uint32_t rqueue = 0;  // rcv_nxt - copied_seq, the FIN included while unread
  uint64_t bytes_received = 0;
  uint64_t bytes_acked = 0;
  uint8_t protocol = IPPROTO_TCP;
  bool with_info = true;
};

void put_attribute(std::vector<std::byte>& out, uint16_t type, const void* value, size_t size) {
  nlattr header{static_cast<uint16_t>(NLA_HDRLEN + size), type};
  const size_t at = out.size();
  out.resize(at + NLA_ALIGN(NLA_HDRLEN + size));
  std::memcpy(out.data() + at, &header, sizeof(header));
  std::memcpy(out.data() + at + NLA_HDRLEN, value, size);
}

std::vector<std::byte> payload_of(const Notification& n) {
  inet_diag_msg msg{};
  msg.idiag_family = n.family;
  msg.idiag_state = kTcpClose;
  msg.id.idiag_sport = htons(40000);
  msg.id.idiag_dport = htons(8080);
  msg.id.idiag_src[0] = htonl(0x7f000001);
  msg.id.idiag_dst[0] = htonl(0x7f000002);
  if (n.family == AF_INET6) std::memset(msg.id.idiag_dst, 0xab, sizeof(msg.id.idiag_dst));
  msg.id.idiag_cookie[0] = static_cast<uint32_t>(n.cookie);
  msg.id.idiag_cookie[1] = static_cast<uint32_t>(n.cookie >> 32);
  msg.idiag_rqueue = n.rqueue;
  std::vector<std::byte> out(NLMSG_ALIGN(sizeof(msg)));
  std::memcpy(out.data(), &msg, sizeof(msg));
  put_attribute(out, INET_DIAG_PROTOCOL, &n.protocol, 1);
  if (n.with_info) {
    tcp_info info{};
    info.tcpi_state = kTcpClose;
    info.tcpi_bytes_received = n.bytes_received;
    info.tcpi_bytes_acked = n.bytes_acked;
    put_attribute(out, INET_DIAG_INFO, &info, sizeof(info));
  }
  return out;
}

TEST(TcpDestroy, AReaderThatReadToTheEndConsumedAllItsPayload) {
  // 5000 bytes and the peer's FIN, all read: the FIN is not payload.
  const auto d = parse_tcp_destroy(payload_of({.bytes_received = 5001, .bytes_acked = 1}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->cookie, 0x1122334455667788u);
  const lw_close_event& e = d->event;
  EXPECT_EQ(e.bytes_received, 5000u);
  EXPECT_EQ(e.bytes_consumed, 5000u);
  EXPECT_EQ(e.bytes_acked, 1u);
  EXPECT_EQ(e.family, AF_INET);
  EXPECT_EQ(e.old_state, kTcpClose);
  EXPECT_EQ(e.local_port, 40000);
  EXPECT_EQ(e.remote_port, 8080);
  const uint32_t remote = htonl(0x7f000002);
  EXPECT_EQ(std::memcmp(e.remote_addr, &remote, 4), 0);
  // For whoever knows the cookie to fill in.
  EXPECT_EQ(e.inode, 0u);
  EXPECT_EQ(e.tgid, 0u);
  EXPECT_EQ(e.cgroup_id, 0u);
}

TEST(TcpDestroy, BytesLeftUnreadAtTheCloseWereReceivedButNotConsumed) {
  // 1000 bytes and the FIN still queued when the application closed.
  const auto d = parse_tcp_destroy(payload_of({.rqueue = 1001, .bytes_received = 5001}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->event.bytes_received, 5000u);
  EXPECT_EQ(d->event.bytes_consumed, 4000u);
}

TEST(TcpDestroy, AConnectionThatReceivedNothingCountsNothing) {
  const auto d = parse_tcp_destroy(payload_of({.bytes_received = 0}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->event.bytes_received, 0u);
  EXPECT_EQ(d->event.bytes_consumed, 0u);
}

TEST(TcpDestroy, AnIpv6PeerIsKeptWhole) {
  const auto d = parse_tcp_destroy(payload_of({.family = AF_INET6, .bytes_received = 1}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->event.family, AF_INET6);
  for (const uint8_t b : d->event.remote_addr) EXPECT_EQ(b, 0xab);
}

TEST(TcpDestroy, WhatIsNotATcpSocketsWholeNotificationIsRefused) {
  auto cut = payload_of({});
  cut.resize(sizeof(inet_diag_msg) - 1);
  EXPECT_FALSE(parse_tcp_destroy(cut)) << "cut short";
  EXPECT_FALSE(parse_tcp_destroy(payload_of({.with_info = false}))) << "no tcp_info";
  EXPECT_FALSE(parse_tcp_destroy(payload_of({.protocol = IPPROTO_UDP}))) << "a UDP socket's";
  EXPECT_FALSE(parse_tcp_destroy(payload_of({.family = AF_UNIX}))) << "not inet";
}

}  // namespace
}  // namespace lw::test
