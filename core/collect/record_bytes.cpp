#include "collect/record_bytes.h"

#include <cstring>

#include "util/error.h"

namespace lw {

size_t whole_socket_records(size_t bytes) {
  if (bytes % sizeof(SocketRecord) != 0) {
    throw Error(ErrorKind::bpf_refused,
                "the socket iterator returned a partial record: BPF program and "
                "user space disagree on the record layout");
  }
  return bytes / sizeof(SocketRecord);
}

std::optional<lw_close_event> close_event_from_bytes(std::span<const std::byte> bytes) {
  if (bytes.size() != sizeof(lw_close_event)) return std::nullopt;
  lw_close_event event;
  std::memcpy(&event, bytes.data(), sizeof(event));
  return event;
}

}  // namespace lw
