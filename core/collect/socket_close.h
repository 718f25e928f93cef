// TCP connections reported by the kernel as they close, with their final
// byte counts: a connection that opens and closes between two iterator
// snapshots is otherwise never seen, and its ingress never counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "collect/bpf_loading.h"
#include "leakwatch_abi.h"
#include "util/libbpf_ptr.h"

namespace lw {

using CloseEvent = lw_close_event;

// Where close events come from: the BPF programs (BpfCloseEvents, below)
// or, where BPF is refused, sock_diag's destroy notifications
// (collect/sock_diag_closes.h). Both give the same CloseEvents.
class CloseEventSource {
 public:
  virtual ~CloseEventSource() = default;
  // Appends every event waiting in the kernel's buffers to out; never blocks.
  virtual void drain(std::vector<CloseEvent>& out) = 0;

  struct Counters {
    uint64_t sent = 0;                // events the kernel sent
    uint64_t lost = 0;                // BPF: events dropped because the ring buffer was full
    uint64_t socket_buffer_full = 0;  // sock_diag: notifications dropped because a listener's buffer was full
    uint64_t owner_storage_full = 0;  // BPF: times an owner could not be recorded
    // BPF: times the kernel skipped one of the programs because it was
    // already running on that CPU (a state change in softirq nested in one
    // in process context): that socket's close event or owner is missing.
    uint64_t recursion_misses = 0;
  };
  // Totals since the source was opened.
  virtual Counters counters() const = 0;
  // How the kernel reports the closes, as leakwatch_backend_info{closes} says.
  virtual std::string_view name() const = 0;
};

class BpfCloseEvents final : public CloseEventSource {
 public:
  // Loads and attaches the programs; ring_bytes must be a power of two and
  // at least the page size. Throws lw::Error(no_privilege) when we lack the
  // capabilities, lw::Error(bpf_refused) when the kernel refuses them.
  static constexpr size_t kDefaultRingBytes = 4u << 20;
  explicit BpfCloseEvents(size_t ring_bytes = kDefaultRingBytes, const BpfOptions& options = {});
  ~BpfCloseEvents() override;
  BpfCloseEvents(BpfCloseEvents&&) noexcept = default;
  BpfCloseEvents& operator=(BpfCloseEvents&&) noexcept = default;

  void drain(std::vector<CloseEvent>& out) override;
  // Totals over all CPUs since load.
  Counters counters() const override;
  std::string_view name() const override { return "tp_btf_inet_sock_set_state"; }

 private:
  static int on_event(void* ctx, void* data, size_t size);

  LibbpfPtr<socket_close> skel_;  // owns the programs, maps and links
  // The ring buffer's callback context: on the heap, so it stays put when
  // the source moves. Points at drain()'s output only while drain() runs.
  std::unique_ptr<std::vector<CloseEvent>*> drain_target_ = std::make_unique<std::vector<CloseEvent>*>(nullptr);
  LibbpfPtr<ring_buffer> ring_;  // after drain_target_: destroyed before it
};

}  // namespace lw
