// Each TCP socket's two positions across samples: how far its reader has
// read (read_position(): copied_seq in payload bytes) and how far its peer
// has acknowledged (bytes_acked). A socket holding unread data whose read
// position stands still is a stalled reader: an abandoned streaming
// response, a pooled connection to a stream. A socket holding data for its
// peer whose acknowledged position stands still is a stalled peer: a slow
// consumer, a subscriber that stopped reading. Only time shows either, so
// they are tracked here, between samples, by socket inode: a socket shared
// by several processes has one of each.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>

#include "model/socket_record.h"

namespace lw {

class StreamPositions {
 public:
  // The sockets of one sample at `time` (seconds, monotonic). A clock
  // starts when data waits and its position does not move; a socket with
  // nothing waiting, or not in this sample, is forgotten.
  void update(double time, std::span<const SocketRecord> records);
  // How long (seconds) r's read position has stood still with data unread,
  // as of the last update; 0 when nothing waits or r was not in it.
  double still_seconds(const SocketRecord& r) const;
  // How long r's acknowledged position has stood still with data not yet
  // acknowledged; 0 likewise.
  double peer_still_seconds(const SocketRecord& r) const;

 private:
  struct Position {
    uint64_t at;
    double since;  // when the position last changed, or data began to wait
  };
  using Positions = std::unordered_map<uint64_t, Position>;
  double still(const Positions& positions, bool waiting, uint64_t at, uint64_t inode) const;

  Positions reads_, acks_;
  double time_ = 0;
};

// When a still position counts as stalled.
struct StallRule {
  const StreamPositions& positions;
  double stall_after_seconds;
  // still_seconds when at least stall_after_seconds, else 0.
  double stalled_seconds(const SocketRecord& r) const;
  // peer_still_seconds when at least stall_after_seconds, else 0.
  double stalled_peer_seconds(const SocketRecord& r) const;
};

}  // namespace lw
