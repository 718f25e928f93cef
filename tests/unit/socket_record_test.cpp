#include "model/socket_record.h"

#include <gtest/gtest.h>

#include "record_builder.h"

namespace lw::test {
namespace {

TEST(SocketRecord, KindNamesFollowFamilyAndProtocol) {
  EXPECT_EQ(socket_kind(RecordBuilder::tcp4("127.0.0.1", 1, "127.0.0.1", 2)), "tcp");
  EXPECT_EQ(socket_kind(RecordBuilder::tcp6("::1", 1, "::1", 2)), "tcp6");
  EXPECT_EQ(socket_kind(RecordBuilder::udp4(53)), "udp");
  EXPECT_EQ(socket_kind(RecordBuilder::unix_stream()), "unix-stream");
  SocketRecord netlink{};
  netlink.family = AF_NETLINK;
  EXPECT_EQ(socket_kind(netlink), "netlink");
}

TEST(SocketRecord, EndpointsFormatBothFamilies) {
  const SocketRecord v4 = RecordBuilder::tcp4("10.1.2.3", 40000, "10.2.0.7", 8000);
  EXPECT_EQ(local_endpoint(v4), "10.1.2.3:40000");
  EXPECT_EQ(remote_endpoint(v4), "10.2.0.7:8000");
  const SocketRecord v6 = RecordBuilder::tcp6("::1", 5, "2001:db8::1", 443);
  EXPECT_EQ(remote_endpoint(v6), "[2001:db8::1]:443");
  EXPECT_EQ(format_address(v6.family, v6.remote_addr), "2001:db8::1");
  EXPECT_EQ(remote_endpoint(RecordBuilder::unix_stream()), "");
}

// Unread bytes mean something for TCP and at either end of a unix stream
// connection; a unix listener's receive queue holds connections, a
// datagram socket's whole messages.
TEST(SocketRecord, UnreadIsKnownForTcpAndUnixStreamEnds) {
  EXPECT_TRUE(unread_known(RecordBuilder::tcp4("127.0.0.1", 1, "127.0.0.1", 2)));
  EXPECT_TRUE(unread_known(RecordBuilder::unix_stream().state(1)));
  EXPECT_FALSE(unread_known(RecordBuilder::unix_stream().state(10)));
  EXPECT_FALSE(unread_known(RecordBuilder::udp4(53)));
  SocketRecord unix_dgram = RecordBuilder::unix_stream();
  unix_dgram.type = SOCK_DGRAM;
  EXPECT_FALSE(unread_known(unix_dgram));
}

TEST(SocketRecord, TcpStateNames) {
  EXPECT_EQ(tcp_state_name(1), "ESTABLISHED");
  EXPECT_EQ(tcp_state_name(8), "CLOSE_WAIT");
  EXPECT_EQ(tcp_state_name(10), "LISTEN");
  EXPECT_EQ(tcp_state_name(200), "UNKNOWN");
}

TEST(SocketRecord, SendQueueUsesTheCounterThatProtocolFills) {
  const SocketRecord tcp = RecordBuilder::tcp4("127.0.0.1", 1, "127.0.0.1", 2).wmem_queued(900).wmem_alloc(100);
  EXPECT_EQ(send_queue_bytes(tcp), 900u);
  const SocketRecord udp = RecordBuilder::udp4(53).wmem_queued(0).wmem_alloc(300);
  EXPECT_EQ(send_queue_bytes(udp), 300u);
  EXPECT_EQ(receive_queue_bytes(RecordBuilder::udp4(53).rmem(768)), 768u);
}

}  // namespace
}  // namespace lw::test
