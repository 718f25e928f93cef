// The paths unix listeners are bound to. Neither the socket iterator nor a
// socket's record carries one (a path is up to 108 bytes); /proc/PID/net/unix,
// the socket table of PID's network namespace, has it by socket inode.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collect/host_paths.h"
#include "model/node_sample.h"

namespace lw {

struct UnixSocketName {
  uint64_t inode;
  std::string path;  // as bound, "@name" for an abstract one; valid UTF-8
};

// /proc/net/unix: the sockets that have a name. Never throws; a line cut
// short (no newline) or of another layout is skipped.
std::vector<UnixSocketName> parse_proc_net_unix(std::string_view text);

// Names the unix listeners of each round's sample, reading a process's
// table only for listeners not named before: a listener keeps its path for
// its life. One whose path cannot be found keeps "socket:[INODE]".
class UnixListenerPaths {
 public:
  explicit UnixListenerPaths(HostPaths paths) : paths_(std::move(paths)) {}
  // The listeners of sockets `pid` holds.
  void name(pid_t pid, std::vector<ListenerQueue>& listeners);
  // Every process's and cgroup's listeners; forgets listeners not seen.
  void name(NodeSample& sample);

 private:
  HostPaths paths_;
  std::unordered_map<uint64_t, std::string> known_, seen_;
};

}  // namespace lw
