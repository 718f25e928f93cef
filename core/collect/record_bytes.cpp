#include "collect/record_bytes.h"

#include <cstring>

#include "util/error.h"

namespace lw {

std::vector<SocketRecord> socket_records_from_bytes(std::span<const std::byte> bytes) {
  if (bytes.size() % sizeof(SocketRecord) != 0) {
    throw Error(ErrorKind::bpf_refused,
                "the socket iterator returned a partial record: BPF program and "
                "user space disagree on the record layout");
  }
  // Copied, not cast: the bytes need not be aligned for the record. One
  // copy of the whole stream: tens of thousands of records are common.
  std::vector<SocketRecord> records(bytes.size() / sizeof(SocketRecord));
  if (!bytes.empty()) std::memcpy(records.data(), bytes.data(), bytes.size());
  return records;
}

std::optional<lw_close_event> close_event_from_bytes(std::span<const std::byte> bytes) {
  if (bytes.size() != sizeof(lw_close_event)) return std::nullopt;
  lw_close_event event;
  std::memcpy(&event, bytes.data(), sizeof(event));
  return event;
}

}  // namespace lw
