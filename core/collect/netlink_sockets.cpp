#include "collect/netlink_sockets.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <map>
#include <set>
#include <span>
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

// The namespace's sockets by inode; throws when it cannot be entered. With
// a watch, its destroy notifications are listened to before the dump, so
// none of a socket the dump lists is missed, and its TCP sockets' identities
// are handed over after.
std::unordered_map<uint64_t, SocketRecord> sockets_of_namespace(const HostPaths& paths, uint64_t netns, pid_t entry,
                                                                DestroyWatch* watch, TcpIdentities& tcp) {
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
  const auto entered = netns_fd ? std::optional<int>(netns_fd->get()) : std::nullopt;
  if (watch) watch->watch(netns, entered);
  const OwnedFd diag = open_sock_diag(entered);
  std::unordered_map<uint64_t, SocketRecord> by_inode;
  for (const auto& r : dump_sockets(diag.get(), watch ? &tcp : nullptr)) by_inode.emplace(r.inode, r);
  return by_inode;
}

// The holders the pass joined, for the watch: a closed socket's owner.
void name_holders(TcpIdentities& tcp, std::span<const SocketRecord> joined) {
  std::unordered_map<uint64_t, uint32_t> holder_by_inode;
  for (const auto& r : joined) holder_by_inode.try_emplace(r.inode, r.tgid);
  for (auto& [cookie, identity] : tcp.by_cookie) {
    if (const auto it = holder_by_inode.find(identity.inode); it != holder_by_inode.end()) identity.tgid = it->second;
  }
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

// The records of one namespace's holders; throws when it cannot be read.
void read_namespace(const HostPaths& paths, uint64_t netns, pid_t entry, const std::vector<HeldSockets>& holders,
                    DestroyWatch* watch, std::vector<SocketRecord>& out, size_t& unseen) {
  TcpIdentities tcp;
  const auto sockets = sockets_of_namespace(paths, netns, entry, watch, tcp);
  const size_t first = out.size();
  join(holders, sockets, out, unseen);
  if (!watch) return;
  name_holders(tcp, std::span(out).subspan(first));
  watch->identify(netns, std::move(tcp));
}

}  // namespace

NetlinkSockets::NetlinkSockets(HostPaths paths) : paths_(std::move(paths)) {
  // Fails now, with its reason, rather than at the first round.
  dump_sockets(open_sock_diag().get());
}

std::unique_ptr<CloseEventSource> NetlinkSockets::watch_closes() {
  destroys_ = std::make_shared<DestroyWatch>();
  return std::make_unique<SockDiagCloseEvents>(destroys_);
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
    // A namespace whose processes hold no socket now is still watched:
    // its connections may open and close before the next pass.
    if (fds.empty() && !destroys_) continue;
    const auto netns = network_namespace_of(paths_, pid);
    if (!netns) continue;
    Namespace& ns = namespaces[*netns];
    if (ns.entry == 0) ns.entry = pid;
    if (!fds.empty()) ns.holders.push_back({pid, std::move(fds)});
  }
  std::vector<SocketRecord> records;
  std::set<uint64_t> read;
  for (const auto& [netns, ns] : namespaces) {
    try {
      read_namespace(paths_, netns, ns.entry, ns.holders, destroys_.get(), records, gaps_.unseen_sockets);
      read.insert(netns);
    } catch (const Error& e) {
      // Its processes' sockets stay unseen, counted; the rest of the node is read.
      log::debug("network namespace {} (PID {}) not read: {}", netns, ns.entry, e.what());
      join(ns.holders, {}, records, gaps_.unseen_sockets);
    }
  }
  if (destroys_) destroys_->keep_only(read);
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
  // A target without sockets now is still watched when closes are: its
  // connections may open and close before the next pass.
  if (!holders.front().fds.empty() || destroys_) {
    read_namespace(paths_, *netns, pid, holders, destroys_.get(), records, gaps_.unseen_sockets);
  }
  process.require_alive();
  return records;
}

}  // namespace lw
