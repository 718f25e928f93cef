#include "model/socket_summary.h"

#include <gtest/gtest.h>

#include "record_builder.h"

namespace lw::test {
namespace {

std::vector<SocketRecord> streaming_client() {
  std::vector<SocketRecord> r;
  // 3 pooled connections to a stream nobody reads, one healthy API connection.
  for (uint32_t i = 0; i < 3; ++i) {
    r.push_back(RecordBuilder::tcp4("10.1.0.5", 40000 + i, "10.2.0.7", 8000)
                    .fd(10 + i)
                    .unread(1000 * (i + 1))
                    .idle_ms(100 * i));
  }
  r.push_back(RecordBuilder::tcp4("10.1.0.5", 41000, "10.9.9.9", 443).fd(20).wmem_queued(50));
  r.push_back(RecordBuilder::tcp4("10.1.0.5", 41001, "10.9.9.9", 443).fd(21).state(8));  // CLOSE_WAIT
  r.push_back(RecordBuilder::unix_stream().fd(3).rmem(10));
  return r;
}

TEST(SocketSummary, TotalsAndCounts) {
  const auto s = summarize_sockets(streaming_client(), 10, 10);
  EXPECT_EQ(s.sockets, 6u);
  EXPECT_EQ(s.unread_bytes, 6000u);
  EXPECT_EQ(s.sockets_with_unread, 3u);
  EXPECT_EQ(s.receive_queue_bytes, 12010u);
  EXPECT_EQ(s.send_queue_bytes, 50u);
  EXPECT_EQ(s.by_kind.at("tcp"), 5u);
  EXPECT_EQ(s.by_kind.at("unix-stream"), 1u);
  EXPECT_EQ(s.by_tcp_state.at("ESTABLISHED"), 4u);
  EXPECT_EQ(s.by_tcp_state.at("CLOSE_WAIT"), 1u);
}

// dup(), or a fork() after connect(): two descriptors, one socket.
TEST(SocketSummary, ASocketHeldByTwoDescriptorsIsCountedOnce) {
  const SocketRecord stalled =
      RecordBuilder::tcp4("127.0.0.1", 40000, "127.0.0.1", 8000).inode(77).fd(5).unread(100000);
  SocketRecord duplicate = stalled;
  duplicate.fd = 6;
  const std::vector<SocketRecord> held{stalled, duplicate, RecordBuilder::unix_stream().fd(3)};
  const auto s = summarize_sockets(held, 10, 10);
  EXPECT_EQ(s.sockets, 2u);
  EXPECT_EQ(s.descriptors, 3u);
  EXPECT_EQ(s.unread_bytes, 100000u);
  EXPECT_EQ(s.sockets_with_unread, 1u);
  EXPECT_EQ(s.by_kind.at("tcp"), 1u);
  ASSERT_EQ(s.endpoints.size(), 1u);
  EXPECT_EQ(s.endpoints[0].connections, 1u);
  EXPECT_EQ(s.top_sockets.size(), 2u) << "listed once";
}

// A cgroup's processes summarized as one without copying their records: a
// socket two of them hold is one socket of two descriptors.
TEST(SocketSummary, PartsAreOneSetOfSocketsWithASharedSocketOnce) {
  SocketRecord listener = RecordBuilder::listener(8000).inode(40).fd(3);
  listener.file_refs = 2;
  SocketRecord inherited = listener;
  inherited.tgid = 2;
  const std::vector<SocketRecord> master{listener, RecordBuilder::unix_stream().inode(41).fd(4)};
  const std::vector<SocketRecord> worker{
      inherited, RecordBuilder::tcp4("127.0.0.1", 8000, "127.0.0.1", 50000).inode(42).fd(5).unread(70)};
  const std::span<const SocketRecord> parts[] = {master, worker};
  const auto s = summarize_socket_parts(parts, 10, 10);
  EXPECT_EQ(s.sockets, 3u);
  EXPECT_EQ(s.descriptors, 4u);
  EXPECT_EQ(s.by_tcp_state.at("LISTEN"), 1u);
  EXPECT_EQ(s.unread_bytes, 70u);
  ASSERT_EQ(s.endpoints.size(), 1u);
  EXPECT_TRUE(s.endpoints[0].inbound) << "the listener of another part makes the connection inbound";
}

// Bytes waiting at a unix stream reader are the writer's memory, not TCP
// ingress: summed apart.
TEST(SocketSummary, UnixUnreadIsSummedApartFromTcpUnread) {
  const std::vector<SocketRecord> held{RecordBuilder::tcp4("127.0.0.1", 40000, "127.0.0.1", 8000).fd(5).unread(300),
                                       RecordBuilder::unix_stream().fd(3).unread(7000),
                                       RecordBuilder::unix_stream().fd(4)};
  const auto s = summarize_sockets(held, 10, 10);
  EXPECT_EQ(s.unread_bytes, 300u);
  EXPECT_EQ(s.sockets_with_unread, 1u);
  EXPECT_EQ(s.unix_unread_bytes, 7000u);
  EXPECT_EQ(s.unix_sockets_with_unread, 1u);
}

// Most waiting first; among idle ones TCP before unix, so that a process's
// idle unix sockets do not push its TCP ports out of the top.
TEST(SocketSummary, ListenersMostWaitingFirstThenTcpBeforeUnix) {
  std::vector<SocketRecord> records;
  for (uint64_t i = 0; i < 6; ++i) records.push_back(RecordBuilder::unix_stream().state(10).inode(500 + i));
  records.back().accept_queue = 3;
  records.back().accept_queue_limit = 16;
  records.push_back(RecordBuilder::listener(9090));
  records.push_back(RecordBuilder::listener(8000));
  const auto s = summarize_sockets(records, 4, 0);
  ASSERT_EQ(s.listeners.size(), 4u);
  EXPECT_EQ(listener_name(s.listeners[0]), "socket:[505]");
  EXPECT_EQ(s.listeners[0].waiting, 3u);
  EXPECT_EQ(s.listeners[0].limit, 16u);
  EXPECT_EQ(s.listeners[0].unix_inode, 505u);
  EXPECT_EQ(listener_name(s.listeners[1]), ":8000");
  EXPECT_EQ(listener_name(s.listeners[2]), ":9090");
  EXPECT_EQ(listener_name(s.listeners[3]), "socket:[500]");
  EXPECT_EQ(s.accept_queue, 3u);
}

TEST(SocketSummary, RecordsWithoutAnInodeAreNotMerged) {
  const std::vector<SocketRecord> held{RecordBuilder::unix_stream().inode(0).fd(3),
                                       RecordBuilder::unix_stream().inode(0).fd(4)};
  EXPECT_EQ(summarize_sockets(held, 10, 10).sockets, 2u);
}

TEST(SocketSummary, GroupsOutboundConnectionsByRemoteEndpointLargestFirst) {
  const auto s = summarize_sockets(streaming_client(), 10, 10);
  ASSERT_EQ(s.endpoints.size(), 2u);
  const auto& stream = s.endpoints[0];
  EXPECT_EQ(stream.peer, "10.2.0.7:8000");
  EXPECT_FALSE(stream.inbound);
  EXPECT_EQ(stream.connections, 3u);
  EXPECT_EQ(stream.unread_bytes, 6000u);
  EXPECT_EQ(stream.max_unread_bytes, 3000u);
  EXPECT_EQ(stream.receive_queue_bytes, 12000u);
  EXPECT_EQ(stream.max_idle_ms, 200u);
  const auto& api = s.endpoints[1];
  EXPECT_EQ(api.peer, "10.9.9.9:443");
  EXPECT_EQ(api.states.at("ESTABLISHED"), 1u);
  EXPECT_EQ(api.states.at("CLOSE_WAIT"), 1u);
  EXPECT_FALSE(api.max_idle_ms.has_value()) << "unknown idle time stays unknown";
}

TEST(SocketSummary, AcceptedConnectionsGroupByClientAddressAndListeningPort) {
  std::vector<SocketRecord> r{RecordBuilder::listener(8080)};
  for (uint16_t p = 0; p < 4; ++p) r.push_back(RecordBuilder::tcp4("10.0.0.1", 8080, "10.3.3.3", 50000 + p));
  r.push_back(RecordBuilder::tcp4("10.0.0.1", 8080, "10.4.4.4", 50000));
  const auto s = summarize_sockets(r, 10, 10);
  ASSERT_EQ(s.endpoints.size(), 2u);
  EXPECT_EQ(s.endpoints[0].peer, "10.3.3.3");
  EXPECT_TRUE(s.endpoints[0].inbound);
  EXPECT_EQ(s.endpoints[0].local_port, 8080);
  EXPECT_EQ(s.endpoints[0].connections, 4u);
}

TEST(SocketSummary, TopNCutsListsAndSumsTheRestIntoOther) {
  std::vector<SocketRecord> r;
  for (uint16_t i = 0; i < 10; ++i) {
    r.push_back(
        RecordBuilder::tcp4("10.0.0.1", 40000 + i, "10.5.0." + std::to_string(i), 80).fd(i).rmem(100 * (i + 1)));
  }
  const auto s = summarize_sockets(r, 3, 3);
  ASSERT_EQ(s.endpoints.size(), 3u);
  EXPECT_EQ(s.endpoints_total, 10u);
  EXPECT_EQ(s.endpoints[0].peer, "10.5.0.9:80");
  EXPECT_EQ(s.other_endpoints.connections, 7u);
  EXPECT_EQ(s.other_endpoints.receive_queue_bytes, 100u * (1 + 2 + 3 + 4 + 5 + 6 + 7));
  ASSERT_EQ(s.top_sockets.size(), 3u);
  EXPECT_EQ(s.top_sockets[0].fd, 9u);
  EXPECT_EQ(s.top_sockets[2].fd, 7u);
}

TEST(SocketSummary, ZeroTopSocketsSkipsRankingButKeepsEndpoints) {
  const auto s = summarize_sockets(streaming_client(), 10, 0);
  EXPECT_TRUE(s.top_sockets.empty());
  EXPECT_EQ(s.endpoints.size(), 2u);
  EXPECT_EQ(s.unread_bytes, 6000u);
}

// A connection that received nothing for the stall time is idle; a
// listener is no connection; one connection whose age is unknown makes the
// count unknown rather than short.
TEST(SocketSummary, IdleConnectionsAreThoseSilentForTheStallTime) {
  StreamPositions positions;
  const StallRule rule{positions, 60};
  std::vector<SocketRecord> held{
      RecordBuilder::tcp4("10.1.0.5", 40000, "10.2.0.7", 8000).fd(3).idle_ms(60000),
      RecordBuilder::tcp4("10.1.0.5", 40001, "10.2.0.7", 8000).fd(4).idle_ms(59999),
      RecordBuilder::tcp4("10.1.0.5", 40002, "10.2.0.7", 8000).fd(5).idle_ms(3600000),
      RecordBuilder::listener(8080).fd(6),
      RecordBuilder::unix_stream().fd(7),
  };
  EXPECT_EQ(summarize_sockets(held, 10, 0, &rule).idle_connections, 2u);
  EXPECT_FALSE(summarize_sockets(held, 10, 0).idle_connections) << "no stall time, no idle count";
  held.push_back(RecordBuilder::tcp4("10.1.0.5", 40003, "10.2.0.7", 8000).fd(8));
  EXPECT_FALSE(summarize_sockets(held, 10, 0, &rule).idle_connections);
}

TEST(SocketSummary, EmptyInput) {
  const auto s = summarize_sockets({}, 5, 5);
  EXPECT_EQ(s.sockets, 0u);
  EXPECT_TRUE(s.endpoints.empty());
  EXPECT_TRUE(s.top_sockets.empty());
}

}  // namespace
}  // namespace lw::test
