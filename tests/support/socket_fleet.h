// Loopback connections held by lw-workload processes, to put a known number
// of sockets on the machine for benchmarks. Each process stays under the
// per-process file descriptor limit; all of them end with this object.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "child_process.h"

namespace lw::test {

// A server process and a client process joined by `count` connections.
struct ConnectionPair {
  std::unique_ptr<ChildProcess> server;
  std::unique_ptr<ChildProcess> client;
};

// About `total` sockets: a first pair whose client holds `biggest`, then
// pairs of at most `biggest` connections each.
class SocketFleet {
 public:
  // Its processes exit by themselves after max_seconds.
  SocketFleet(const std::string& workload, int total, int biggest, int max_seconds = 900);
  // The client of the first pair: the process with the most sockets.
  pid_t biggest_process() const { return pairs_.front().client->pid(); }

 private:
  std::vector<ConnectionPair> pairs_;
};

}  // namespace lw::test
