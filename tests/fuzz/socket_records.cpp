// The socket iterator's output as bytes (whole_socket_records), then
// everything that reads meaning into a record (socket_record.h) and the
// per-process summary (summarize_sockets). Only whole records are accepted
// (anything else is lw::Error(bpf_refused)); an inet address prints as text
// that parses back to the same bytes; the summary's totals are the sums of
// its records, each socket once.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <span>
#include <string>
#include <unordered_set>

#include "collect/record_bytes.h"
#include "fuzz_check.h"
#include "model/socket_summary.h"
#include "util/error.h"

namespace {

void check_address(uint16_t family, const uint8_t (&addr)[LW_ADDR_LEN]) {
  const auto text = lw::format_address(family, addr);
  LW_FUZZ_CHECK(!text.empty());
  uint8_t parsed[LW_ADDR_LEN] = {};
  LW_FUZZ_CHECK(inet_pton(family, text.c_str(), parsed) == 1);
  LW_FUZZ_CHECK(std::memcmp(parsed, addr, family == AF_INET ? 4 : 16) == 0);
}

void check_record(const lw::SocketRecord& r) {
  LW_FUZZ_CHECK(!lw::socket_kind(r).empty());
  LW_FUZZ_CHECK(!lw::tcp_state_name(r.state).empty() || r.state == 0);
  LW_FUZZ_CHECK(lw::receive_queue_bytes(r) == r.rmem_alloc);
  if (lw::is_inet(r)) {
    check_address(r.family, r.local_addr);
    check_address(r.family, r.remote_addr);
    LW_FUZZ_CHECK(lw::remote_endpoint(r).ends_with(":" + std::to_string(r.remote_port)));
    LW_FUZZ_CHECK(lw::local_endpoint(r).ends_with(":" + std::to_string(r.local_port)));
  } else {
    LW_FUZZ_CHECK(lw::remote_endpoint(r).empty() && lw::local_endpoint(r).empty());
  }
}

// A socket held by several descriptors comes as several records with one
// inode: the summary counts and sums it once, its first record; a record
// without an inode, or one the kernel counts as its socket's only
// descriptor (file_refs 1), is a socket of its own.
void check_summary(std::span<const lw::SocketRecord> records) {
  constexpr size_t kTopEndpoints = 3, kTopSockets = 4;
  const auto summary = lw::summarize_sockets(records, kTopEndpoints, kTopSockets);
  std::unordered_set<uint64_t> seen;
  uint64_t sockets = 0, receive = 0, send = 0, kinds = 0;
  for (const auto& r : records) {
    if (!lw::only_descriptor(r) && r.inode != 0 && !seen.insert(r.inode).second) continue;
    sockets++;
    receive += lw::receive_queue_bytes(r);
    send += lw::send_queue_bytes(r);
  }
  for (const auto& [kind, count] : summary.by_kind) kinds += count;
  LW_FUZZ_CHECK(summary.descriptors == records.size());
  LW_FUZZ_CHECK(summary.sockets == sockets && kinds == sockets);
  LW_FUZZ_CHECK(summary.receive_queue_bytes == receive && summary.send_queue_bytes == send);
  LW_FUZZ_CHECK(summary.sockets_with_unread <= summary.sockets);
  LW_FUZZ_CHECK(summary.endpoints.size() <= kTopEndpoints && summary.endpoints.size() <= summary.endpoints_total);
  LW_FUZZ_CHECK(summary.top_sockets.size() == std::min<size_t>(kTopSockets, sockets));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t count = 0;
  try {
    count = lw::whole_socket_records(size);
  } catch (const lw::Error& error) {
    LW_FUZZ_CHECK(error.kind() == lw::ErrorKind::bpf_refused && size % sizeof(lw::SocketRecord) != 0);
    return 0;
  }
  LW_FUZZ_CHECK(count * sizeof(lw::SocketRecord) == size);
  std::vector<lw::SocketRecord> records(count);
  if (size > 0) std::memcpy(records.data(), data, size);
  for (const auto& r : records) check_record(r);
  check_summary(records);
  return 0;
}
