#include "model/read_positions.h"

namespace lw {
namespace {

bool may_stall(const SocketRecord& r) { return is_tcp(r) && r.unread > 0; }

}  // namespace

void ReadPositions::update(double time, std::span<const SocketRecord> records) {
  std::unordered_map<uint64_t, Position> next;
  for (const auto& r : records) {
    if (!may_stall(r)) continue;
    Position p{read_position(r), time};
    if (const auto it = positions_.find(r.inode); it != positions_.end() && it->second.read == p.read) {
      p.since = it->second.since;
    }
    next.emplace(r.inode, p);
  }
  positions_ = std::move(next);
  time_ = time;
}

double ReadPositions::still_seconds(const SocketRecord& r) const {
  if (!may_stall(r)) return 0;
  const auto it = positions_.find(r.inode);
  if (it == positions_.end() || it->second.read != read_position(r)) return 0;
  return time_ - it->second.since;
}

double StallRule::stalled_seconds(const SocketRecord& r) const {
  const double still = positions.still_seconds(r);
  return still >= stall_after_seconds ? still : 0;
}

}  // namespace lw
