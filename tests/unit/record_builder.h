// Builds synthetic socket records for unit tests, the way the BPF program
// would fill them for a given kind of socket.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <string>

#include "model/socket_record.h"

namespace lw::test {

class RecordBuilder {
 public:
  static RecordBuilder tcp4(const std::string& local, uint16_t lport, const std::string& remote, uint16_t rport) {
    RecordBuilder b;
    b.r_.family = AF_INET;
    b.r_.type = SOCK_STREAM;
    b.r_.protocol = IPPROTO_TCP;
    b.r_.flags = LW_SOCK_IS_TCP;
    b.r_.state = 1;  // ESTABLISHED
    inet_pton(AF_INET, local.c_str(), b.r_.local_addr);
    inet_pton(AF_INET, remote.c_str(), b.r_.remote_addr);
    b.r_.local_port = lport;
    b.r_.remote_port = rport;
    return b;
  }
  static RecordBuilder tcp6(const std::string& local, uint16_t lport, const std::string& remote, uint16_t rport) {
    RecordBuilder b = tcp4("0.0.0.0", lport, "0.0.0.0", rport);
    b.r_.family = AF_INET6;
    inet_pton(AF_INET6, local.c_str(), b.r_.local_addr);
    inet_pton(AF_INET6, remote.c_str(), b.r_.remote_addr);
    return b;
  }
  static RecordBuilder listener(uint16_t port) {
    RecordBuilder b = tcp4("0.0.0.0", port, "0.0.0.0", 0);
    b.r_.state = 10;  // LISTEN
    return b;
  }
  static RecordBuilder unix_stream() {
    RecordBuilder b;
    b.r_.family = AF_UNIX;
    b.r_.type = SOCK_STREAM;
    return b;
  }
  static RecordBuilder udp4(uint16_t lport) {
    RecordBuilder b;
    b.r_.family = AF_INET;
    b.r_.type = SOCK_DGRAM;
    b.r_.protocol = IPPROTO_UDP;
    inet_pton(AF_INET, "127.0.0.1", b.r_.local_addr);
    b.r_.local_port = lport;
    return b;
  }

  RecordBuilder& fd(uint32_t v) {
    r_.fd = v;
    return *this;
  }
  RecordBuilder& state(uint8_t v) {
    r_.state = v;
    return *this;
  }
  RecordBuilder& unread(uint32_t v) {
    r_.unread = v;
    r_.rmem_alloc = v * 2;
    return *this;
  }
  RecordBuilder& rmem(uint32_t v) {
    r_.rmem_alloc = v;
    return *this;
  }
  RecordBuilder& wmem_queued(uint32_t v) {
    r_.wmem_queued = v;
    return *this;
  }
  RecordBuilder& wmem_alloc(uint32_t v) {
    r_.wmem_alloc = v;
    return *this;
  }
  RecordBuilder& idle_ms(uint32_t v) {
    r_.last_rcv_age_ms = v;
    r_.flags |= LW_SOCK_RCV_AGE_KNOWN;
    return *this;
  }
  // The socket's identity; without it each record built is a socket of its
  // own, with an inode no other record has, as the kernel numbers them.
  // `acked` bytes acknowledged by the peer, `unacked` more written and waiting.
  RecordBuilder& sent(uint64_t acked, uint32_t unacked) {
    r_.bytes_acked = acked;
    r_.unacked = unacked;
    return *this;
  }
  RecordBuilder& inode(uint64_t v) {
    inode_ = v;
    return *this;
  }
  SocketRecord build() const {
    SocketRecord r = r_;
    static uint64_t next_inode = 1'000'000;
    r.inode = inode_ ? *inode_ : next_inode++;
    return r;
  }
  operator SocketRecord() const { return build(); }

 private:
  SocketRecord r_{};
  std::optional<uint64_t> inode_;
};

}  // namespace lw::test
