// What every JSON leakwatch writes (the inspect report, recordings) shares:
// null for what is unknown, and the fields an endpoint group always has
// (each writer adds what it needs on top).
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "model/socket_summary.h"

namespace lw {

template <typename T>
nlohmann::ordered_json optional_value(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

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
