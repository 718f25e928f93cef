#include "collect/unix_paths.h"

#include <algorithm>
#include <utility>

#include "collect/procfs.h"
#include "util/text_parse.h"
#include "util/utf8.h"

namespace lw {

std::vector<UnixSocketName> parse_proc_net_unix(std::string_view text) {
  // "Num: RefCount Protocol Flags Type St Inode Path", the path after one space.
  constexpr size_t kInodeColumn = 6;
  std::vector<UnixSocketName> names;
  const auto lines = text::split(text, '\n');
  for (size_t i = 1; i + 1 < lines.size(); ++i) {  // the header first; the last part is after the last newline
    std::string_view rest = lines[i];
    std::string_view inode;
    for (size_t column = 0; column <= kInodeColumn; ++column) {
      const auto start = rest.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      rest.remove_prefix(start);
      const auto end = std::min(rest.find(' '), rest.size());
      if (column == kInodeColumn) inode = rest.substr(0, end);
      rest.remove_prefix(end);
    }
    const auto number = text::parse_integer<uint64_t>(inode);
    if (!number || *number == 0 || rest.size() < 2 || rest.front() != ' ') continue;
    names.push_back({*number, valid_utf8(rest.substr(1))});
  }
  return names;
}

void UnixListenerPaths::name(pid_t pid, std::vector<ListenerQueue>& listeners) {
  bool table_read = false;
  for (auto& q : listeners) {
    if (q.unix_inode == 0) continue;
    if (!known_.contains(q.unix_inode) && !table_read) {
      table_read = true;
      const auto table = read_text_file(paths_.proc / std::to_string(pid) / "net/unix");
      for (auto& n : parse_proc_net_unix(table.value_or(""))) known_.try_emplace(n.inode, std::move(n.path));
    }
    // Not found (it closed, or its process exited, meanwhile): asked no more.
    const auto [it, added] = known_.try_emplace(q.unix_inode, q.path);
    q.path = it->second;
    seen_.insert(*it);
  }
}

void UnixListenerPaths::name(NodeSample& sample) {
  for (auto& p : sample.processes) name(p.key.pid, p.sockets.listeners);
  // A cgroup's listeners are its processes': named above.
  for (auto& [path, c] : sample.cgroups) {
    for (auto& q : c.sockets.listeners) {
      if (const auto it = seen_.find(q.unix_inode); q.unix_inode != 0 && it != seen_.end()) q.path = it->second;
    }
  }
  known_ = std::exchange(seen_, {});
}

}  // namespace lw
