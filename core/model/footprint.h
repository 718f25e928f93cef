// The one rule for a process's footprint, used by inspect, the agent and the
// analysis alike: resident memory plus the kernel memory its sockets queue.
// Resident is anon + file + shmem when the kernel reports all three (4.5+),
// else VmRSS, which the kernel defines as that same sum; with neither, the
// footprint is unknown, never a sum that silently leaves a part out.
#pragma once

#include <cstdint>
#include <optional>

#include "collect/procfs.h"

namespace lw {

template <typename T>
struct ResidentMemory {
  std::optional<T> anon, file, shmem;
  std::optional<T> total;  // VmRSS
};

template <typename T>
std::optional<T> resident_bytes(const ResidentMemory<T>& m) {
  if (m.anon && m.file && m.shmem) return *m.anon + *m.file + *m.shmem;
  return m.total;
}

template <typename T>
std::optional<T> footprint_bytes(const ResidentMemory<T>& m, T socket_queues) {
  const auto resident = resident_bytes(m);
  if (!resident) return std::nullopt;
  return *resident + socket_queues;
}

// Memory per TCP connection: steady while memory follows the connections a
// service is asked to hold (load), rising when each connection costs more
// over time (a leak). Unknown without connections or without the memory.
inline std::optional<double> memory_per_connection(std::optional<uint64_t> bytes, uint64_t connections) {
  if (!bytes || connections == 0) return std::nullopt;
  return static_cast<double>(*bytes) / static_cast<double>(connections);
}

inline ResidentMemory<uint64_t> resident_of(const ProcessStatus& s) {
  return {s.rss_anon, s.rss_file, s.rss_shmem, s.vm_rss};
}

}  // namespace lw
