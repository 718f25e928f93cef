// What connection-leak and close-wait-leak both weigh: open connections that
// grow are a close-wait leak, not a connection leak, when most of the new
// ones sit in CLOSE_WAIT.
#pragma once

#include <optional>

#include "analyze/subject.h"
#include "analyze/trend.h"

namespace lw {

struct ConnectionTrends {
  Series close_wait_series;
  std::optional<Trend> connections, close_wait;
  bool connections_grow = false;
  bool explained_by_close_wait = false;  // most new connections are in CLOSE_WAIT
};

ConnectionTrends connection_trends(const Subject& s);

}  // namespace lw
