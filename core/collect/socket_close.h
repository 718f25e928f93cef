// TCP connections reported by the kernel as they close, with their final
// byte counts: a connection that opens and closes between two iterator
// snapshots is otherwise never seen, and its ingress never counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "collect/bpf_loading.h"
#include "leakwatch_abi.h"
#include "util/libbpf_ptr.h"

namespace lw {

using CloseEvent = lw_close_event;

class CloseEventSource {
 public:
  // Loads and attaches the programs; ring_bytes must be a power of two and
  // at least the page size. Throws lw::Error(no_privilege) when we lack the
  // capabilities, lw::Error(bpf_refused) when the kernel refuses them.
  static constexpr size_t kDefaultRingBytes = 4u << 20;
  explicit CloseEventSource(size_t ring_bytes = kDefaultRingBytes, const BpfOptions& options = {});
  ~CloseEventSource();
  CloseEventSource(CloseEventSource&&) noexcept = default;
  CloseEventSource& operator=(CloseEventSource&&) noexcept = default;

  // Appends every event waiting in the ring buffer to out; never blocks.
  void drain(std::vector<CloseEvent>& out);

  struct Counters {
    uint64_t sent = 0;                // events written to the ring buffer
    uint64_t lost = 0;                // events dropped because the ring buffer was full
    uint64_t owner_storage_full = 0;  // times an owner could not be recorded
    // Times the kernel skipped one of the programs because it was already
    // running on that CPU (a state change in softirq nested in one in
    // process context): that socket's close event or owner is missing.
    uint64_t recursion_misses = 0;
  };
  // Totals over all CPUs since load.
  Counters counters() const;

 private:
  static int on_event(void* ctx, void* data, size_t size);

  LibbpfPtr<socket_close> skel_;  // owns the programs, maps and links
  // The ring buffer's callback context: on the heap, so it stays put when
  // the source moves. Points at drain()'s output only while drain() runs.
  std::unique_ptr<std::vector<CloseEvent>*> drain_target_ = std::make_unique<std::vector<CloseEvent>*>(nullptr);
  LibbpfPtr<ring_buffer> ring_;  // after drain_target_: destroyed before it
};

}  // namespace lw
