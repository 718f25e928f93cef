#include "model/stream_positions.h"

namespace lw {
namespace {

bool unread_waits(const SocketRecord& r) { return is_tcp(r) && r.unread > 0; }
bool unacked_waits(const SocketRecord& r) { return is_tcp(r) && r.unacked > 0; }

}  // namespace

void StreamPositions::update(double time, std::span<const SocketRecord> records) {
  Positions reads, acks;
  const auto track = [time, &records](const Positions& before, Positions& after, bool (*waits)(const SocketRecord&),
                                      uint64_t (*position)(const SocketRecord&)) {
    for (const auto& r : records) {
      if (!waits(r)) continue;
      Position p{position(r), time};
      if (const auto it = before.find(r.inode); it != before.end() && it->second.at == p.at) p.since = it->second.since;
      after.emplace(r.inode, p);
    }
  };
  track(reads_, reads, unread_waits, read_position);
  track(acks_, acks, unacked_waits, [](const SocketRecord& r) -> uint64_t { return r.bytes_acked; });
  reads_ = std::move(reads);
  acks_ = std::move(acks);
  time_ = time;
}

double StreamPositions::still(const Positions& positions, bool waiting, uint64_t at, uint64_t inode) const {
  if (!waiting) return 0;
  const auto it = positions.find(inode);
  if (it == positions.end() || it->second.at != at) return 0;
  return time_ - it->second.since;
}

double StreamPositions::still_seconds(const SocketRecord& r) const {
  return still(reads_, unread_waits(r), read_position(r), r.inode);
}

double StreamPositions::peer_still_seconds(const SocketRecord& r) const {
  return still(acks_, unacked_waits(r), r.bytes_acked, r.inode);
}

double StallRule::stalled_seconds(const SocketRecord& r) const {
  const double still = positions.still_seconds(r);
  return still >= stall_after_seconds ? still : 0;
}

double StallRule::stalled_peer_seconds(const SocketRecord& r) const {
  const double still = positions.peer_still_seconds(r);
  return still >= stall_after_seconds ? still : 0;
}

}  // namespace lw
