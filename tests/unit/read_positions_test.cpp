// Stalled readers: read positions that stand still while data waits.
#include "model/read_positions.h"

#include <gtest/gtest.h>

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

TEST(ReadPositions, AReaderThatMovesIsNotStalled) {
  ReadPositions positions;
  for (uint32_t i = 0; i < 10; ++i) {
    const SocketRecord r = reading(1, 1000 * i, 4096);
    positions.update(i * 30.0, std::vector{r});
    EXPECT_EQ(positions.still_seconds(r), 0) << "sample " << i;
  }
}

TEST(ReadPositions, AStillReaderStallsAfterTheThreshold) {
  ReadPositions positions;
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

TEST(ReadPositions, NothingUnreadIsIdleNotStalled) {
  ReadPositions positions;
  positions.update(0, std::vector{reading(1, 77, 0)});
  positions.update(100, std::vector{reading(1, 77, 0)});
  // Data has just arrived after a long idle spell: the clock starts now.
  const SocketRecord arrived = reading(1, 77, 512);
  positions.update(110, std::vector{arrived});
  EXPECT_EQ(positions.still_seconds(arrived), 0);
}

TEST(ReadPositions, ForgetsClosedSockets) {
  ReadPositions positions;
  const SocketRecord still = reading(1, 77, 4096);
  positions.update(0, std::vector{still});
  positions.update(30, std::vector<SocketRecord>{});
  // The inode comes back (as if reused): a new socket, its clock restarted.
  positions.update(100, std::vector{still});
  EXPECT_EQ(positions.still_seconds(still), 0);
  positions.update(160, std::vector{still});
  EXPECT_DOUBLE_EQ(positions.still_seconds(still), 60);
}

TEST(ReadPositions, ASharedSocketHasOnePosition) {
  ReadPositions positions;
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
