// Close events as ring-buffer samples (close_event_from_bytes), fed to the
// ingress ledger the way the agent feeds them. The input is a run of
// 72-byte samples; a shorter tail is a malformed sample. A sample decodes
// only at exactly one event's size and keeps every byte; the ledger's
// totals never go backwards, and a process's equal its cgroup's when it
// owns every socket.
#include <cstring>
#include <span>

#include "collect/record_bytes.h"
#include "fuzz_check.h"
#include "model/ingress_ledger.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kEvent = sizeof(lw_close_event);
  const std::span bytes(reinterpret_cast<const std::byte*>(data), size);
  lw::IngressLedger ledger(/*max_sockets=*/64);
  const lw::SocketOwner owner{.process = lw::ProcessKey{.pid = 1, .start_time = 1}, .cgroup = "/c"};
  lw::IngressTotals last{};
  size_t at = 0;
  for (; at + kEvent <= size; at += kEvent) {
    const auto sample = bytes.subspan(at, kEvent);
    LW_FUZZ_CHECK(!lw::close_event_from_bytes(bytes.subspan(at, kEvent - 1)));
    if (at + kEvent < size) LW_FUZZ_CHECK(!lw::close_event_from_bytes(bytes.subspan(at, kEvent + 1)));
    const auto event = lw::close_event_from_bytes(sample);
    LW_FUZZ_CHECK(event && std::memcmp(&*event, sample.data(), kEvent) == 0);

    // Counters below 2^56 (years at line rate), so that the sum of a few
    // thousand never wraps: a wrap is no leak of the ledger's.
    const uint64_t received = event->bytes_received >> 8, consumed = event->bytes_consumed >> 8;
    // Every other event is seen live first, as a snapshot would see it.
    if (event->tgid % 2 == 0) ledger.observe(event->inode, received / 2, consumed / 2, owner);
    ledger.close(event->inode, received, consumed, owner);
    if (event->old_state % 4 == 0) ledger.end_round();
    const auto totals = ledger.cgroup_totals("/c");
    LW_FUZZ_CHECK(totals.received >= last.received && totals.consumed >= last.consumed);
    LW_FUZZ_CHECK(ledger.process_totals(*owner.process).received == totals.received);
    last = totals;
  }
  LW_FUZZ_CHECK(at == size || !lw::close_event_from_bytes(bytes.subspan(at)));
  return 0;
}
