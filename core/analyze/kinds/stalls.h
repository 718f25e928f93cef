// What socket-receive-backlog and socket-send-backlog both weigh: sockets
// whose reader, or whose peer, stopped taking data (model/stream_positions.h).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "analyze/subject.h"
#include "analyze/trend.h"

namespace lw {

// Where an endpoint group counts one kind of stall.
struct StallFields {
  uint64_t EndpointGroup::*sockets;
  uint64_t EndpointGroup::*bytes;
  double EndpointGroup::*seconds;
};
inline constexpr StallFields kStalledReaders{&EndpointGroup::stalled_sockets, &EndpointGroup::stalled_unread_bytes,
                                             &EndpointGroup::max_stalled_seconds};
inline constexpr StallFields kStalledPeers{&EndpointGroup::stalled_peers, &EndpointGroup::stalled_peer_bytes,
                                           &EndpointGroup::max_peer_stalled_seconds};

// The latest sample's endpoint whose stalled sockets hold the most bytes,
// if they hold min_stalled_bytes or more.
const EndpointGroup* most_stalled(const Subject& s, const StallFields& stall);

// A stall is a finding even on a flat backlog: a pooled connection to a
// stream sits at a full buffer forever. Longer stalls are surer.
double stall_confidence(double stalled_seconds, const AnalysisConfig& config);

// Anonymous memory's trend since `peer` stalled, when it grows: what the
// process keeps in its own memory for a peer that takes nothing (a pub/sub
// broker's queue for a subscriber that stopped reading).
std::optional<Trend> buffered_for(const Subject& s, const EndpointGroup& peer);

}  // namespace lw
