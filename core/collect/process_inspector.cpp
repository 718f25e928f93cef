#include "collect/process_inspector.h"

#include <unistd.h>

#include <fmt/format.h>

#include "collect/cgroup_namespace.h"
#include "collect/unix_paths.h"
#include "model/footprint.h"
#include "util/error.h"

namespace lw {
namespace {

void require_user_process(const ProcessInfo& p) {
  if (p.stat.is_kernel_thread()) {
    throw Error(ErrorKind::kernel_thread,
                fmt::format("PID {} is a kernel thread: it has no user memory or sockets to inspect", p.pid));
  }
  if (!p.alive()) {
    throw Error(ErrorKind::zombie,
                fmt::format("PID {} has exited (zombie) and holds no memory; its parent has not reaped it yet", p.pid));
  }
}

// The socket pass reads the kernel's tables at one instant; if the process
// ended (or its PID was reused) around that instant the numbers are not its.
void require_same_process(const HostPaths& paths, const ProcessInfo& before) {
  const auto after = read_stat(paths, before.pid);
  const bool dead = after && (after->state == 'Z' || after->state == 'X') && !before.leader_exited;
  if (!after || after->start_time != before.stat.start_time || dead) {
    throw Error(ErrorKind::process_exited,
                fmt::format("PID {} exited while it was being inspected; nothing left to report", before.pid));
  }
}

}  // namespace

MemoryBreakdown memory_breakdown(const ProcessStatus& status, const SocketSummary& sockets) {
  MemoryBreakdown m;
  m.anon = status.rss_anon;
  m.file = status.rss_file;
  m.shmem = status.rss_shmem;
  m.receive_queues = sockets.receive_queue_bytes;
  m.send_queues = sockets.send_queue_bytes;
  m.footprint = footprint_bytes(resident_of(status), m.receive_queues + m.send_queues);
  return m;
}

ProcessReport inspect_process(SocketSource& sockets, const HostPaths& paths, pid_t pid, size_t top_n) {
  ProcessReport report;
  report.process = read_process(paths, pid);
  require_user_process(report.process);

  const auto pass_start = std::chrono::steady_clock::now();
  const auto records = sockets.for_process(pid);
  report.socket_pass_duration = std::chrono::steady_clock::now() - pass_start;
  report.taken_at = std::chrono::system_clock::now();
  require_same_process(paths, report.process);

  report.sockets = summarize_sockets(records, top_n, top_n);
  UnixListenerPaths(paths).name(pid, report.sockets.listeners);
  report.shared_sockets = find_shared_sockets(sockets, paths, pid, records);
  if (report.shared_sockets && report.shared_sockets->size() > top_n) report.shared_sockets->resize(top_n);
  report.memory = memory_breakdown(report.process.status, report.sockets);
  // Run inside a container (kubectl exec into the agent's pod), paths are
  // relative to its cgroup namespace until rewritten.
  CgroupNamespace::discover(paths, getpid()).to_host_paths(report.process.cgroups);
  if (auto location = locate_memory_cgroup(paths, report.process.cgroups)) {
    report.cgroup = read_cgroup_memory(*location);
  }
  PodIdentityResolver pods(paths.log);
  pods.refresh();
  report.pod = pods.resolve(report.process.cgroups);
  return report;
}

}  // namespace lw
