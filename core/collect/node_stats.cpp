#include "collect/node_stats.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>

#include "collect/procfs.h"
#include "util/error.h"
#include "util/text_parse.h"

namespace lw {
namespace {

using text::parse_integer;
using text::split;
using text::split_whitespace;

// The kernel ends every line with a newline, so text without one was cut
// short and its last word may have lost digits. Dropping that word keeps the
// complete values before it.
std::string_view complete_part(std::string_view text) {
  if (text.empty() || text.back() == '\n') return text;
  const auto last_separator = text.find_last_of(text::kWhitespace);
  return last_separator == std::string_view::npos ? std::string_view{} : text.substr(0, last_separator + 1);
}

// "TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0": after the protocol, names and
// values alternate. Returns the value named `name` on the `protocol` line.
std::optional<uint64_t> sockstat_field(std::string_view text, std::string_view protocol, std::string_view name) {
  for (const auto line : split(complete_part(text), '\n')) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || line.substr(0, colon) != protocol) continue;
    const auto words = split_whitespace(line.substr(colon + 1));
    for (size_t i = 0; i + 1 < words.size(); i += 2) {
      if (words[i] == name) return parse_integer<uint64_t>(words[i + 1]);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::string read_or_empty(const std::filesystem::path& path) { return read_text_file(path).value_or(""); }

}  // namespace

NodeSocketStats parse_sockstat(std::string_view sockstat, std::string_view sockstat6) {
  return NodeSocketStats{
      .sockets_used = sockstat_field(sockstat, "sockets", "used"),
      .tcp_inuse = sockstat_field(sockstat, "TCP", "inuse"),
      .tcp_orphan = sockstat_field(sockstat, "TCP", "orphan"),
      .tcp_tw = sockstat_field(sockstat, "TCP", "tw"),
      .tcp_alloc = sockstat_field(sockstat, "TCP", "alloc"),
      .tcp_mem_pages = sockstat_field(sockstat, "TCP", "mem"),
      .udp_inuse = sockstat_field(sockstat, "UDP", "inuse"),
      .udp_mem_pages = sockstat_field(sockstat, "UDP", "mem"),
      .tcp6_inuse = sockstat_field(sockstat6, "TCP6", "inuse"),
      .udp6_inuse = sockstat_field(sockstat6, "UDP6", "inuse"),
  };
}

std::optional<TcpMemLimits> parse_tcp_mem(std::string_view text) {
  const auto words = split_whitespace(complete_part(text));
  if (words.size() != 3) return std::nullopt;
  const auto min = parse_integer<uint64_t>(words[0]);
  const auto pressure = parse_integer<uint64_t>(words[1]);
  const auto max = parse_integer<uint64_t>(words[2]);
  if (!min || !pressure || !max) return std::nullopt;
  return TcpMemLimits{.min_pages = *min, .pressure_pages = *pressure, .max_pages = *max};
}

NodeStats read_node_stats(const HostPaths& paths) {
  // proc/net is a link to self/net: the reader's own network namespace, which
  // for an agent pod without hostNetwork is the pod's. PID 1 of the host's
  // /proc lives in the host's namespace, so its counts are the node's.
  const auto net = paths.proc / "1" / "net";
  const auto tcp_mem = read_text_file(paths.proc / "sys" / "net" / "ipv4" / "tcp_mem");
  return NodeStats{
      .sockets = parse_sockstat(read_or_empty(net / "sockstat"), read_or_empty(net / "sockstat6")),
      .tcp_mem = tcp_mem ? parse_tcp_mem(*tcp_mem) : std::nullopt,
      .page_size = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)),
  };
}

std::vector<pid_t> list_pids(const HostPaths& paths) {
  std::error_code error;
  std::filesystem::directory_iterator it(paths.proc, error);
  std::vector<pid_t> pids;
  for (; !error && it != std::filesystem::directory_iterator{}; it.increment(error)) {
    const auto pid = parse_integer<pid_t>(it->path().filename().native());
    if (pid && *pid > 0) pids.push_back(*pid);
  }
  if (error) {
    throw Error(ErrorKind::io, "cannot list processes in " + paths.proc.string() + ": " + error.message(),
                error.value());
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

}  // namespace lw
