// The other processes holding a process's sockets: a pre-fork server's
// listener, a connection inherited across fork(). The per-process pass
// sees only the target's descriptors; a socket file with more references
// than those says another process may hold it, and only then is the whole
// node read to name them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "collect/host_paths.h"
#include "collect/socket_source.h"
#include "model/socket_record.h"

namespace lw {

struct SocketHolder {
  pid_t pid = 0;
  std::string command;  // empty when it could not be read
  uint64_t descriptors = 0;
};

struct SharedSocket {
  SocketRecord socket;               // as the target holds it (its lowest fd)
  uint64_t descriptors = 0;          // the target's descriptors of it
  std::vector<SocketHolder> others;  // by PID
};

// Sockets whose file has more references than `held` has descriptors of
// it: another process may hold them (or the kernel, for a moment); their
// other holders not yet known. Pure.
std::vector<SharedSocket> possibly_shared(std::span<const SocketRecord> held);

// The other holders of `held`'s sockets, read from the whole node only when
// possibly_shared() finds any; sockets no other process holds are left out.
// nullopt when the backend does not know file references (netlink).
std::optional<std::vector<SharedSocket>> find_shared_sockets(SocketSource& source, const HostPaths& paths, pid_t pid,
                                                             std::span<const SocketRecord> held);

}  // namespace lw
