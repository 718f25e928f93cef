// One process, read once: its memory by kind, its memory cgroup and pod, and
// what the kernel holds for its sockets. The model behind `leakwatch inspect`.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>

#include "collect/cgroup.h"
#include "collect/host_paths.h"
#include "collect/pod_identity.h"
#include "collect/procfs.h"
#include "collect/socket_sharers.h"
#include "collect/socket_source.h"
#include "model/socket_summary.h"

namespace lw {

// Where a process's memory is, including what no user-space profiler sees.
struct MemoryBreakdown {
  std::optional<uint64_t> anon;
  std::optional<uint64_t> file;
  std::optional<uint64_t> shmem;
  uint64_t receive_queues = 0;  // kernel memory of the sockets' receive queues
  uint64_t send_queues = 0;     // kernel memory of the sockets' send queues
  // model/footprint.h's rule; nullopt when resident memory is unknown.
  std::optional<uint64_t> footprint;
};

struct ProcessReport {
  ProcessInfo process;
  MemoryBreakdown memory;
  std::optional<CgroupMemory> cgroup;  // nullopt when no memory cgroup is found
  PodIdentity pod;                     // empty outside Kubernetes pods
  SocketSummary sockets;
  // The target's sockets that other processes hold too, with them; nullopt
  // when the backend cannot tell (collect/socket_sharers.h).
  std::optional<std::vector<SharedSocket>> shared_sockets;
  std::chrono::system_clock::time_point taken_at;
  std::chrono::nanoseconds socket_pass_duration{0};
};

MemoryBreakdown memory_breakdown(const ProcessStatus& status, const SocketSummary& sockets);

// Throws lw::Error: no_such_process, kernel_thread, zombie, process_exited
// (also when the PID was reused during the snapshot), or the iterator's errors.
ProcessReport inspect_process(SocketSource& sockets, const HostPaths& paths, pid_t pid, size_t top_n);

}  // namespace lw
