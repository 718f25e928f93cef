#include "collect/socket_sharers.h"

#include <algorithm>
#include <map>

#include "collect/procfs.h"
#include "util/log.h"

namespace lw {
namespace {

std::string command_of(const HostPaths& paths, pid_t pid) {
  auto text = read_text_file(paths.proc / std::to_string(pid) / "comm").value_or("");
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace

std::vector<SharedSocket> possibly_shared(std::span<const SocketRecord> held) {
  std::map<uint64_t, SharedSocket> by_inode;
  for (const auto& r : held) {
    if (r.inode == 0) continue;
    SharedSocket& s = by_inode.try_emplace(r.inode, SharedSocket{r, 0, {}}).first->second;
    if (r.fd < s.socket.fd) s.socket = r;
    s.descriptors++;
  }
  std::vector<SharedSocket> out;
  for (auto& [inode, s] : by_inode) {
    if (s.socket.file_refs > s.descriptors) out.push_back(std::move(s));
  }
  return out;
}

std::optional<std::vector<SharedSocket>> find_shared_sockets(SocketSource& source, const HostPaths& paths, pid_t pid,
                                                             std::span<const SocketRecord> held) {
  // Every descriptor is a reference: a backend that reports none knows none.
  if (std::all_of(held.begin(), held.end(), [](const SocketRecord& r) { return r.file_refs == 0; }) && !held.empty()) {
    return std::nullopt;
  }
  auto candidates = possibly_shared(held);
  if (candidates.empty()) return std::vector<SharedSocket>{};
  log::debug("reading every process's sockets for the other holders of {} sockets", candidates.size());
  std::map<uint64_t, std::map<pid_t, uint64_t>> holders;  // inode -> other PID -> descriptors
  for (const auto& c : candidates) holders[c.socket.inode];
  for (const auto& r : source.all()) {
    const auto it = holders.find(r.inode);
    if (it != holders.end() && static_cast<pid_t>(r.tgid) != pid) it->second[static_cast<pid_t>(r.tgid)]++;
  }
  std::vector<SharedSocket> out;
  for (auto& c : candidates) {
    const auto& others = holders[c.socket.inode];
    if (others.empty()) continue;
    for (const auto& [other, descriptors] : others) c.others.push_back({other, command_of(paths, other), descriptors});
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace lw
