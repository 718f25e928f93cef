// Node-wide socket figures and the process list, the context every
// per-process sample is read against: how much of the kernel's TCP memory
// budget the node has used, and which processes there are to sample.
// Parsers take file contents so they can be tested on fixtures; readers take
// a HostPaths so they work from inside a container. Unknown is never 0.
// Text not ending in a newline was cut short: its last word is not trusted.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "collect/host_paths.h"

namespace lw {

// /proc/net/sockstat (and sockstat6): socket counts and memory of the whole node.
struct NodeSocketStats {
  std::optional<uint64_t> sockets_used;  // "sockets: used N"
  std::optional<uint64_t> tcp_inuse, tcp_orphan, tcp_tw, tcp_alloc;
  std::optional<uint64_t> tcp_mem_pages;  // "TCP: ... mem N" (pages)
  std::optional<uint64_t> udp_inuse, udp_mem_pages;
  std::optional<uint64_t> tcp6_inuse, udp6_inuse;  // from sockstat6
};

NodeSocketStats parse_sockstat(std::string_view sockstat, std::string_view sockstat6);

// /proc/sys/net/ipv4/tcp_mem: "min pressure max" in pages. Past pressure the
// kernel starts shrinking socket buffers; past max it refuses to grow them.
struct TcpMemLimits {
  uint64_t min_pages, pressure_pages, max_pages;
};

std::optional<TcpMemLimits> parse_tcp_mem(std::string_view text);

struct NodeStats {
  NodeSocketStats sockets;
  std::optional<TcpMemLimits> tcp_mem;
  uint64_t page_size;  // bytes per page, to turn the *_pages fields into bytes
};

// Reads the sockstat files of PID 1 (the host's network namespace when
// paths.proc is the host's /proc) and sys/net/ipv4/tcp_mem under paths.proc.
// Missing files leave fields unknown.
NodeStats read_node_stats(const HostPaths& paths);

// Every numeric directory of paths.proc: the PIDs of all processes (threads
// are not listed there), ascending. Throws lw::Error(io) when paths.proc
// cannot be listed: without it the agent has nothing to sample.
std::vector<pid_t> list_pids(const HostPaths& paths);

}  // namespace lw
