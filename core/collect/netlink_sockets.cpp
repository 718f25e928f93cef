#include "collect/netlink_sockets.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <map>
#include <unordered_map>

#include "collect/node_stats.h"
#include "collect/pinned_process.h"
#include "collect/sock_diag.h"
#include "collect/socket_owners.h"
#include "util/error.h"
#include "util/log.h"

namespace lw {
namespace {

struct HeldSockets {
  pid_t pid;
  std::vector<SocketFd> fds;
};

// The processes of one network namespace, and one of them to enter it by.
struct Namespace {
  pid_t entry = 0;
  std::vector<HeldSockets> holders;
};

std::optional<uint64_t> own_network_namespace() {
  struct stat st {};
  if (stat("/proc/self/ns/net", &st) != 0) return std::nullopt;
  return st.st_ino;
}

// The namespace's sockets by inode; throws when it cannot be entered.
std::unordered_map<uint64_t, SocketRecord> sockets_of_namespace(const HostPaths& paths, uint64_t netns, pid_t entry) {
  std::optional<OwnedFd> netns_fd;
  if (netns != own_network_namespace()) {
    const auto path = paths.proc / std::to_string(entry) / "ns/net";
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      throw Error(ErrorKind::process_exited, "cannot open " + path.string(), err);
    }
    netns_fd.emplace(fd);
  }
  const OwnedFd diag = open_sock_diag(netns_fd ? std::optional<int>(netns_fd->get()) : std::nullopt);
  std::unordered_map<uint64_t, SocketRecord> by_inode;
  for (const auto& r : dump_sockets(diag.get())) by_inode.emplace(r.inode, r);
  return by_inode;
}

// One record per held descriptor of a socket the dump listed; the rest are
// counted in unseen.
void join(const std::vector<HeldSockets>& holders, const std::unordered_map<uint64_t, SocketRecord>& sockets,
          std::vector<SocketRecord>& out, size_t& unseen) {
  for (const auto& holder : holders) {
    for (const auto& held : holder.fds) {
      const auto it = sockets.find(held.inode);
      if (it == sockets.end()) {
        unseen++;
        continue;
      }
      SocketRecord r = it->second;
      r.tgid = static_cast<uint32_t>(holder.pid);
      r.fd = held.fd;
      out.push_back(r);
    }
  }
}

}  // namespace

NetlinkSockets::NetlinkSockets(HostPaths paths) : paths_(std::move(paths)) {
  // Fails now, with its reason, rather than at the first round.
  dump_sockets(open_sock_diag().get());
}

std::vector<SocketRecord> NetlinkSockets::all() {
  std::map<uint64_t, Namespace> namespaces;
  gaps_ = {};
  for (const pid_t pid : list_pids(paths_)) {
    std::vector<SocketFd> fds;
    try {
      fds = socket_fds_of(paths_, pid);
    } catch (const Error& e) {
      gaps_.unreadable_processes++;
      log::debug("PID {}: {}", pid, e.what());
      continue;
    }
    const auto netns = network_namespace_of(paths_, pid);
    if (fds.empty() || !netns) continue;
    Namespace& ns = namespaces[*netns];
    if (ns.entry == 0) ns.entry = pid;
    ns.holders.push_back({pid, std::move(fds)});
  }
  std::vector<SocketRecord> records;
  for (const auto& [netns, ns] : namespaces) {
    std::unordered_map<uint64_t, SocketRecord> sockets;
    try {
      sockets = sockets_of_namespace(paths_, netns, ns.entry);
    } catch (const Error& e) {
      // Its processes' sockets stay unseen, counted; the rest of the node is read.
      log::debug("network namespace {} (PID {}) not read: {}", netns, ns.entry, e.what());
    }
    join(ns.holders, sockets, records, gaps_.unseen_sockets);
  }
  return records;
}

std::vector<SocketRecord> NetlinkSockets::for_process(pid_t pid) {
  const PinnedProcess process(pid);
  const auto netns = network_namespace_of(paths_, pid);
  const std::vector<HeldSockets> holders{{pid, socket_fds_of(paths_, pid)}};
  if (!netns) {
    process.require_alive();
    throw Error(ErrorKind::io, fmt::format("cannot read {}: its network namespace is needed to read its sockets",
                                           (paths_.proc / std::to_string(pid) / "ns/net").string()));
  }
  std::vector<SocketRecord> records;
  gaps_ = {};
  if (!holders.front().fds.empty()) {
    join(holders, sockets_of_namespace(paths_, *netns, pid), records, gaps_.unseen_sockets);
  }
  process.require_alive();
  return records;
}

}  // namespace lw
