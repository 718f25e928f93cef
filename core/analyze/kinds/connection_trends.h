// What connection-leak, close-wait-leak and heap-growth weigh: open
// connections that grow are a close-wait leak, not a connection leak, when
// most of the new ones sit in CLOSE_WAIT; and the memory each leaked
// connection holds in the process grows the heap with them.
#pragma once

#include <optional>
#include <string>

#include "analyze/subject.h"
#include "analyze/trend.h"

namespace lw {

struct ConnectionTrends {
  Series close_wait_series;
  std::optional<Trend> connections, close_wait;
  bool connections_grow = false;
  bool explained_by_close_wait = false;  // most new connections are in CLOSE_WAIT
  // Growing as leaked connections grow: most new ones in CLOSE_WAIT, or idle.
  bool leaked = false;
  // Anonymous memory growing with leaked connections (nullopt: it does not
  // grow, or faster than connections can hold): theirs, not a second leak.
  std::optional<Trend> memory_with_them;
};

ConnectionTrends connection_trends(const Subject& s);

// ", and the process's memory grows 48.0 KiB/s with them (48.0 KiB each)",
// or "" when it does not.
std::string memory_with_connections(const ConnectionTrends& c);

}  // namespace lw
