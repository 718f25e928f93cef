#include "socket_fleet.h"

#include <algorithm>

namespace lw::test {
namespace {

ConnectionPair connect_pair(const std::string& workload, int count, const std::string& max_seconds) {
  ConnectionPair p;
  p.server = std::make_unique<ChildProcess>(std::vector<std::string>{workload, "serve", "--bind", "127.0.0.1", "--port",
                                                                     "0", "--count", std::to_string(count),
                                                                     "--max-seconds", max_seconds});
  const std::string port = p.server->expect_line("ready ");
  p.client = std::make_unique<ChildProcess>(std::vector<std::string>{workload, "connect", "--to", "127.0.0.1", "--port",
                                                                     port, "--count", std::to_string(count),
                                                                     "--max-seconds", max_seconds});
  p.client->expect_line("ready ", std::chrono::seconds(120));
  p.server->expect_line("accepted ", std::chrono::seconds(120));
  return p;
}

}  // namespace

SocketFleet::SocketFleet(const std::string& workload, int total, int biggest, int max_seconds) {
  const std::string seconds = std::to_string(max_seconds);
  // A pair of n connections holds 2n + 1 sockets (the listener).
  pairs_.push_back(connect_pair(workload, biggest, seconds));
  for (int left = total - 2 * biggest - 1; left > 1;) {
    const int count = std::min(left / 2, biggest);
    pairs_.push_back(connect_pair(workload, count, seconds));
    left -= 2 * count + 1;
  }
}

}  // namespace lw::test
