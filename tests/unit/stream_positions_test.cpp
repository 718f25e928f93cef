// Stalled readers and stalled peers: read and acknowledged positions that
// stand still while data waits.
#include "model/stream_positions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "model/socket_summary.h"
#include "record_builder.h"

namespace lw::test {
namespace {

// A socket that has read `consumed` bytes and has `unread` more waiting.
SocketRecord reading(uint64_t inode, uint32_t consumed, uint32_t unread, uint16_t remote_port = 8000) {
  SocketRecord r =
      RecordBuilder::tcp4("127.0.0.1", 40000 + static_cast<uint16_t>(inode), "10.2.0.7", remote_port).unread(unread);
  r.inode = inode;
  r.bytes_received = uint64_t{consumed} + unread;
  return r;
}

TEST(StreamPositions, AReaderThatMovesIsNotStalled) {
  StreamPositions positions;
  for (uint32_t i = 0; i < 10; ++i) {
    const SocketRecord r = reading(1, 1000 * i, 4096);
    positions.update(i * 30.0, std::vector{r});
    EXPECT_EQ(positions.still_seconds(r), 0) << "sample " << i;
  }
}

TEST(StreamPositions, AStillReaderStallsAfterTheThreshold) {
  StreamPositions positions;
  const std::vector sockets{reading(1, 77, 4096), reading(2, 5, 1000), reading(3, 9, 100, 443)};
  const StallRule rule{positions, 60};
  positions.update(0, sockets);
  positions.update(59, sockets);
  EXPECT_EQ(rule.stalled_seconds(sockets[0]), 0);
  positions.update(90, sockets);
  EXPECT_DOUBLE_EQ(rule.stalled_seconds(sockets[0]), 90);

  const SocketSummary summary = summarize_sockets(sockets, 5, 0, &rule);
  ASSERT_EQ(summary.endpoints.size(), 2u);
  const EndpointGroup& stream = summary.endpoints[0];
  EXPECT_EQ(endpoint_label(stream), "10.2.0.7:8000");
  EXPECT_EQ(stream.stalled_sockets, 2u);
  EXPECT_EQ(stream.stalled_unread_bytes, 5096u);
  EXPECT_DOUBLE_EQ(stream.max_stalled_seconds, 90);
  EXPECT_EQ(summarize_sockets(sockets, 5, 0).endpoints[0].stalled_sockets, 0u) << "no rule, no stalls";
}

TEST(StreamPositions, NothingUnreadIsIdleNotStalled) {
  StreamPositions positions;
  positions.update(0, std::vector{reading(1, 77, 0)});
  positions.update(100, std::vector{reading(1, 77, 0)});
  // Data has just arrived after a long idle spell: the clock starts now.
  const SocketRecord arrived = reading(1, 77, 512);
  positions.update(110, std::vector{arrived});
  EXPECT_EQ(positions.still_seconds(arrived), 0);
}

TEST(StreamPositions, ForgetsClosedSockets) {
  StreamPositions positions;
  const SocketRecord still = reading(1, 77, 4096);
  positions.update(0, std::vector{still});
  positions.update(30, std::vector<SocketRecord>{});
  // The inode comes back (as if reused): a new socket, its clock restarted.
  positions.update(100, std::vector{still});
  EXPECT_EQ(positions.still_seconds(still), 0);
  positions.update(160, std::vector{still});
  EXPECT_DOUBLE_EQ(positions.still_seconds(still), 60);
}

// A socket that has had `acked` bytes acknowledged and has `unacked` more
// written and waiting for its peer.
SocketRecord sending(uint64_t inode, uint64_t acked, uint32_t unacked) {
  return RecordBuilder::tcp4("127.0.0.1", 8080, "10.1.0.9", 50000 + static_cast<uint16_t>(inode))
      .inode(inode)
      .sent(acked, unacked);
}

// A subscriber that stopped reading: its publisher's socket holds data the
// peer never acknowledges. One that acknowledges, however slowly, or has
// nothing waiting, is not stalled; and reading is judged apart.
TEST(StreamPositions, APeerThatAcknowledgesNothingStallsAfterTheThreshold) {
  StreamPositions positions;
  const StallRule rule{positions, 60};
  const SocketRecord stalled = sending(1, 5000, 200000);
  positions.update(0, std::vector{stalled, sending(2, 100, 4096), sending(3, 7, 0)});
  positions.update(59, std::vector{stalled, sending(2, 101, 4096), sending(3, 7, 0)});
  EXPECT_EQ(rule.stalled_peer_seconds(stalled), 0);
  const std::vector later{stalled, sending(2, 102, 4096), sending(3, 7, 0)};
  positions.update(75, later);
  EXPECT_DOUBLE_EQ(rule.stalled_peer_seconds(stalled), 75);
  EXPECT_EQ(rule.stalled_peer_seconds(later[1]), 0) << "it acknowledges, slowly";
  EXPECT_EQ(rule.stalled_peer_seconds(later[2]), 0) << "nothing waits";
  EXPECT_EQ(rule.stalled_seconds(stalled), 0) << "its reader is not in question";

  const SocketSummary summary = summarize_sockets(later, 5, 0, &rule);
  const auto peer = std::find_if(summary.endpoints.begin(), summary.endpoints.end(),
                                 [](const EndpointGroup& e) { return e.stalled_peers > 0; });
  ASSERT_NE(peer, summary.endpoints.end());
  EXPECT_EQ(peer->stalled_peers, 1u);
  EXPECT_EQ(peer->stalled_peer_bytes, 200000u);
  EXPECT_DOUBLE_EQ(peer->max_peer_stalled_seconds, 75);
}

TEST(StreamPositions, ASharedSocketHasOnePosition) {
  StreamPositions positions;
  SocketRecord parent = reading(1, 77, 4096), child = parent;
  parent.tgid = 10;
  child.tgid = 11;
  positions.update(0, std::vector{parent, child});
  positions.update(70, std::vector{parent, child});
  EXPECT_DOUBLE_EQ(positions.still_seconds(parent), 70);
  EXPECT_DOUBLE_EQ(positions.still_seconds(child), 70);
}

}  // namespace
}  // namespace lw::test
