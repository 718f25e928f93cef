// Who holds which socket, from /proc/PID/fd: what the netlink backend joins
// sock_diag's sockets with (the BPF iterator reads it in the kernel).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "collect/host_paths.h"

namespace lw {

struct SocketFd {
  uint32_t fd;
  uint64_t inode;  // socket:[inode]
};

// The socket descriptors of one process, by ascending fd: its leader's
// table, or a live thread's when the leader exited (pthread_exit from main)
// and its own table is gone. Empty when the process is gone; throws
// lw::Error(no_privilege) when its descriptors are not ours to read.
std::vector<SocketFd> socket_fds_of(const HostPaths& paths, pid_t pid);

// The process's network namespace (the inode /proc/PID/ns/net names);
// nullopt when the process is gone.
std::optional<uint64_t> network_namespace_of(const HostPaths& paths, pid_t pid);
// Ours, the one a socket we make answers for.
std::optional<uint64_t> own_network_namespace();

}  // namespace lw
