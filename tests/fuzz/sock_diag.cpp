// One message of a sock_diag dump as the kernel sends it (parse_inet_diag,
// parse_unix_diag), or a TCP destroy notification (parse_tcp_destroy): the
// first byte picks which (0 TCP, 1 UDP, 3 destroy, anything else unix), the
// rest is the message after its nlmsghdr. A message shorter than its fixed
// header is refused; any other is read without reading past its end,
// whatever its attributes claim; the record keeps the header's identity, and
// the unread bytes never exceed the kernel's receive queue. A destroy keeps
// the header's cookie, leaves the identity the notification lacks at 0 and
// never consumes more than it received.
#include <linux/inet_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <span>

#include "collect/sock_diag.h"
#include "fuzz_check.h"
#include "model/socket_record.h"

namespace {

void check_inet(std::span<const std::byte> payload, uint8_t protocol) {
  const auto record = lw::parse_inet_diag(payload, protocol);
  LW_FUZZ_CHECK(record.has_value() == (payload.size() >= sizeof(inet_diag_msg)));
  if (!record) return;
  inet_diag_msg msg;
  std::memcpy(&msg, payload.data(), sizeof(msg));
  LW_FUZZ_CHECK(record->inode == msg.idiag_inode && record->family == msg.idiag_family);
  LW_FUZZ_CHECK(record->protocol == protocol && record->state == msg.idiag_state);
  LW_FUZZ_CHECK(lw::receive_queue_bytes(*record) == record->rmem_alloc);
  if (protocol != IPPROTO_TCP) return;
  LW_FUZZ_CHECK(record->unread <= msg.idiag_rqueue);
  if (lw::is_inet(*record)) LW_FUZZ_CHECK(!lw::remote_endpoint(*record).empty());
}

void check_unix(std::span<const std::byte> payload) {
  const auto record = lw::parse_unix_diag(payload);
  LW_FUZZ_CHECK(record.has_value() == (payload.size() >= sizeof(unix_diag_msg)));
  if (!record) return;
  unix_diag_msg msg;
  std::memcpy(&msg, payload.data(), sizeof(msg));
  LW_FUZZ_CHECK(record->family == AF_UNIX && record->inode == msg.udiag_ino && record->type == msg.udiag_type);
  LW_FUZZ_CHECK(lw::remote_endpoint(*record).empty());
  // Only a unix stream end's rqueue is bytes: a listener's counts connections.
  if (!lw::is_unix_stream_end(*record)) LW_FUZZ_CHECK(record->unread == 0);
}

void check_destroy(std::span<const std::byte> payload) {
  const auto destroyed = lw::parse_tcp_destroy(payload);
  if (!destroyed) return;
  LW_FUZZ_CHECK(payload.size() >= sizeof(inet_diag_msg));
  inet_diag_msg msg;
  std::memcpy(&msg, payload.data(), sizeof(msg));
  LW_FUZZ_CHECK(destroyed->cookie == (msg.id.idiag_cookie[0] | uint64_t{msg.id.idiag_cookie[1]} << 32));
  const lw_close_event& e = destroyed->event;
  LW_FUZZ_CHECK(e.family == msg.idiag_family && (e.family == AF_INET || e.family == AF_INET6));
  LW_FUZZ_CHECK(e.inode == 0 && e.tgid == 0 && e.cgroup_id == 0);
  LW_FUZZ_CHECK(e.bytes_consumed <= e.bytes_received);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span payload(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  switch (data[0]) {
    case 0: check_inet(payload, IPPROTO_TCP); break;
    case 1: check_inet(payload, IPPROTO_UDP); break;
    case 3: check_destroy(payload); break;
    default: check_unix(payload);
  }
  return 0;
}
