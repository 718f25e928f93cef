// The kernel's records as user space receives them, as bytes: the socket
// iterator's output is a stream of whole lw_socket_records, and each close
// event arrives as one ring-buffer sample. The layouts are
// bpf/leakwatch_abi.h's; these functions only check that the bytes hold
// whole records before reading them.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "leakwatch_abi.h"
#include "model/socket_record.h"

namespace lw {

// How many records `bytes` of the iterator's output hold. Throws
// lw::Error(bpf_refused) when they end mid-record: the BPF program and user
// space then disagree on the layout, and no record of the pass can be trusted.
size_t whole_socket_records(size_t bytes);

// One ring-buffer sample; nullopt unless it is exactly one lw_close_event.
std::optional<lw_close_event> close_event_from_bytes(std::span<const std::byte> bytes);

}  // namespace lw
