// The fields an endpoint group has in every JSON leakwatch writes (the
// inspect report, recordings); each adds what it needs on top.
#pragma once

#include <nlohmann/json.hpp>

#include "model/socket_summary.h"

namespace lw {

inline nlohmann::ordered_json endpoint_counts_json(const EndpointGroup& g) {
  return {
      {"peer", g.peer},
      {"direction", g.inbound ? "inbound" : "outbound"},
      {"connections", g.connections},
      {"states", g.states},
      {"receive_queue_bytes", g.receive_queue_bytes},
      {"send_queue_bytes", g.send_queue_bytes},
      {"unread_bytes", g.unread_bytes},
      {"max_unread_bytes", g.max_unread_bytes},
  };
}

}  // namespace lw
