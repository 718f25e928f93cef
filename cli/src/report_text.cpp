#include "report_text.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

#include "text_table.h"
#include "util/units.h"

namespace lw::cli {
namespace {

using Align = TextTable::Align;

std::string join_counts(const Counts& counts) {
  std::vector<std::pair<std::string, uint64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [name, count] : sorted) {
    if (!out.empty()) out += ", ";
    out += name.empty() ? fmt::format("{}", count) : fmt::format("{} {}", name, count);
  }
  return out;
}

std::string header(const ProcessReport& r) {
  const auto& p = r.process;
  const std::string command = p.cmdline.empty() ? p.status.name.value_or("?") : p.cmdline;
  std::string out = fmt::format("PID {}  {}\n", p.pid, command);
  if (p.open_fds) out += fmt::format("{} open file descriptors, {} sockets\n", *p.open_fds, r.sockets.sockets);
  if (!r.pod.empty()) {
    const auto known = [](const std::string& s) { return s.empty() ? std::string("?") : s; };
    out += fmt::format("Pod {}/{} (uid {}), container {}\n", known(r.pod.namespace_), known(r.pod.pod), r.pod.pod_uid,
                       known(r.pod.container));
  }
  return out;
}

std::string memory_section(const ProcessReport& r) {
  const auto& m = r.memory;
  const uint64_t whole = m.footprint.value_or(0);
  auto share = [&](const std::optional<uint64_t>& v) { return v && whole ? percent(*v, whole) : std::string(); };
  TextTable t({{"MEMORY"}, {"BYTES", Align::right}, {"SHARE", Align::right}});
  t.add_row({"resident anon (heap, stacks)", human_bytes(m.anon), share(m.anon)});
  t.add_row({"resident file", human_bytes(m.file), share(m.file)});
  t.add_row({"resident shmem", human_bytes(m.shmem), share(m.shmem)});
  t.add_row({"kernel socket receive queues", human_bytes(m.receive_queues), share(m.receive_queues)});
  t.add_row({"kernel socket send queues", human_bytes(m.send_queues), share(m.send_queues)});
  t.add_row({"footprint", human_bytes(m.footprint), ""});
  return t.render("");
}

std::string cgroup_section(const ProcessReport& r) {
  if (!r.cgroup) return "Memory cgroup: not found\n";
  const auto& c = *r.cgroup;
  std::string limit = "unknown";
  if (c.limit) limit = c.limit->bytes ? human_bytes(*c.limit->bytes) : "none";
  std::string usage = human_bytes(c.usage);
  if (c.usage && c.limit && c.limit->bytes) usage += fmt::format(" ({} of limit)", percent(*c.usage, *c.limit->bytes));
  return fmt::format("Memory cgroup {} ({}): usage {}, limit {}, socket memory {}\n", c.path,
                     c.version == CgroupVersion::v1 ? "v1" : "v2", usage, limit, human_bytes(c.sock));
}

std::string sockets_section(const SocketSummary& s) {
  if (s.sockets == 0) return "Sockets: none\n";
  std::string out = fmt::format("Sockets: {} ({})", s.sockets, join_counts(s.by_kind));
  if (s.descriptors != s.sockets) out += fmt::format(", held by {} descriptors", s.descriptors);
  out += "\n";
  if (!s.by_tcp_state.empty()) out += fmt::format("  TCP states: {}\n", join_counts(s.by_tcp_state));
  if (s.unread_bytes > 0) {
    out += fmt::format("  Unread: {} received but not yet read by the process, on {} sockets\n",
                       human_bytes(s.unread_bytes), s.sockets_with_unread);
  }
  if (s.unix_unread_bytes > 0) {
    out += fmt::format("  Unread on unix streams: {} waiting for the process to read, on {} sockets\n",
                       human_bytes(s.unix_unread_bytes), s.unix_sockets_with_unread);
  }
  if (s.drops > 0) {
    out += fmt::format("  Dropped: {} packets dropped by the kernel on arrival (on UDP: a full receive buffer)\n",
                       s.drops);
  }
  for (const auto& q : s.listeners) {
    if (q.waiting == 0) continue;
    out +=
        fmt::format("  Accept queue: {} connections wait to be accepted on {} {} (limit {})\n", q.waiting,
                    q.path.empty() ? "port" : "unix socket", q.path.empty() ? std::to_string(q.port) : q.path, q.limit);
  }
  return out;
}

std::string endpoint_name(const EndpointGroup& g) {
  return g.inbound ? fmt::format("{} -> :{} (inbound)", g.peer, g.local_port) : g.peer;
}

std::string idle(const std::optional<uint64_t>& ms) { return ms ? human_duration_ms(*ms) : "-"; }

std::string endpoints_section(const SocketSummary& s) {
  if (s.endpoints.empty()) return {};
  TextTable t({{"REMOTE ENDPOINT"},
               {"CONNS", Align::right},
               {"STATES"},
               {"RECV-Q", Align::right},
               {"SEND-Q", Align::right},
               {"UNREAD", Align::right},
               {"MAX UNREAD", Align::right},
               {"MAX IDLE", Align::right}});
  auto add = [&](const std::string& name, const EndpointGroup& g) {
    t.add_row({name, std::to_string(g.connections), join_counts(g.states), human_bytes(g.receive_queue_bytes),
               human_bytes(g.send_queue_bytes), human_bytes(g.unread_bytes), human_bytes(g.max_unread_bytes),
               idle(g.max_idle_ms)});
  };
  for (const auto& g : s.endpoints) add(endpoint_name(g), g);
  const uint64_t rest = s.endpoints_total - s.endpoints.size();
  if (rest > 0) add(fmt::format("({} more)", rest), s.other_endpoints);
  return fmt::format("\nRemote endpoints (top {} of {}, by queued bytes)\n", s.endpoints.size(), s.endpoints_total) +
         t.render("");
}

std::string top_sockets_section(const SocketSummary& s) {
  if (s.top_sockets.empty()) return {};
  TextTable t({{"FD", Align::right},
               {"KIND"},
               {"STATE"},
               {"LOCAL"},
               {"REMOTE"},
               {"RECV-Q", Align::right},
               {"SEND-Q", Align::right},
               {"UNREAD", Align::right},
               {"IDLE", Align::right}});
  for (const auto& r : s.top_sockets) {
    const bool tcp = is_tcp(r);
    t.add_row({std::to_string(r.fd), socket_kind(r), std::string(tcp ? tcp_state_name(r.state) : ""), local_endpoint(r),
               r.remote_port ? remote_endpoint(r) : "", human_bytes(receive_queue_bytes(r)),
               human_bytes(send_queue_bytes(r)), unread_known(r) ? human_bytes(r.unread) : "-",
               (r.flags & LW_SOCK_RCV_AGE_KNOWN) ? human_duration_ms(r.last_rcv_age_ms) : "-"});
  }
  return fmt::format("\nTop sockets by queued bytes\n") + t.render("");
}

// One sentence for the case this tool exists for: memory the heap profiler
// cannot see because the kernel holds it for unread sockets.
std::string hint(const ProcessReport& r) {
  const auto& m = r.memory;
  const uint64_t queues = m.receive_queues + m.send_queues;
  if (!m.footprint || *m.footprint == 0 || queues * 10 < *m.footprint) return {};
  return fmt::format(
      "\nNote: {} of this process's footprint ({}) is kernel socket buffers, invisible to heap profilers. "
      "Look at the endpoints above with large RECV-Q (data not read) or SEND-Q (peers not reading).\n",
      percent(queues, *m.footprint), human_bytes(queues));
}

std::string shared_sockets_section(const std::optional<std::vector<SharedSocket>>& shared) {
  if (!shared || shared->empty()) return "";
  std::string out = "\nSockets other processes hold too\n";
  for (const auto& s : *shared) {
    std::string where = socket_kind(s.socket);
    if (is_inet(s.socket)) where += " " + local_endpoint(s.socket);
    if (s.socket.remote_port) where += " -> " + remote_endpoint(s.socket);
    std::vector<std::string> others;
    for (const auto& h : s.others) {
      others.push_back(fmt::format("PID {}{} ({} fd{})", h.pid, h.command.empty() ? "" : " " + h.command, h.descriptors,
                                   h.descriptors == 1 ? "" : "s"));
    }
    out += fmt::format("  fd {} ({}): also held by {}\n", s.socket.fd, where, fmt::join(others, ", "));
  }
  return out;
}

}  // namespace

std::string render_text(const ProcessReport& report) {
  return header(report) + "\n" + memory_section(report) + "\n" + cgroup_section(report) +
         sockets_section(report.sockets) + endpoints_section(report.sockets) + top_sockets_section(report.sockets) +
         shared_sockets_section(report.shared_sockets) + hint(report);
}

}  // namespace lw::cli
