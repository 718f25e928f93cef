// Each socket's read position (read_position(): copied_seq in payload
// bytes) across samples. A socket holding
// unread data whose read position stands still is a stalled reader: the
// mark of an abandoned streaming response or a pooled connection to a
// stream. Only time shows it, so it is tracked here, between samples, by
// socket inode: a socket shared by several processes has one position.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>

#include "model/socket_record.h"

namespace lw {

class ReadPositions {
 public:
  // The sockets of one sample at `time` (seconds, monotonic). The clock of a
  // socket starts when it has something to read and its reader does not take
  // it; a socket with nothing unread, or not in this sample, is forgotten.
  void update(double time, std::span<const SocketRecord> records);
  // How long (seconds) r's read position has stood still with data waiting,
  // as of the last update; 0 when nothing waits or r was not in it.
  double still_seconds(const SocketRecord& r) const;

 private:
  struct Position {
    uint64_t read;
    double since;  // when the read position last changed, or data began to wait
  };
  std::unordered_map<uint64_t, Position> positions_;
  double time_ = 0;
};

// When a still read position counts as stalled.
struct StallRule {
  const ReadPositions& positions;
  double stall_after_seconds;
  // still_seconds when at least stall_after_seconds, else 0.
  double stalled_seconds(const SocketRecord& r) const;
};

}  // namespace lw
