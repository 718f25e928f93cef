// User-space view of the records the socket iterator emits. The layout is
// defined once, in bpf/leakwatch_abi.h; this header adds meaning to it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "leakwatch_abi.h"

namespace lw {

using SocketRecord = lw_socket_record;

bool is_tcp(const SocketRecord& r);
bool is_inet(const SocketRecord& r);
// A listening TCP socket (state TCP_LISTEN).
bool is_tcp_listener(const SocketRecord& r);
// A listening unix stream or seqpacket socket: its accept_queue is the
// connections connect() queued, not yet accepted.
bool is_unix_listener(const SocketRecord& r);
// A TCP or unix listener: a socket with an accept queue.
bool is_listener(const SocketRecord& r);
// One end of a unix stream connection (not a listener): its `unread` is
// what waits at that end for its reader.
bool is_unix_stream_end(const SocketRecord& r);
// Whether r.unread means something: TCP and unix stream ends.
bool unread_known(const SocketRecord& r);
// The only descriptor of its socket on the whole node, as the kernel's file
// reference count says (BPF); false when another may exist or the count is
// unknown. Such a record needs no deduplication by inode.
bool only_descriptor(const SocketRecord& r);

// TCP: how far the application has read, in payload bytes since the
// connection began (bytes_received - unread): what copied_seq says, known to
// every backend.
uint64_t read_position(const SocketRecord& r);

// Bytes the kernel holds for the socket's receive side (sk_rmem_alloc).
uint64_t receive_queue_bytes(const SocketRecord& r);
// Bytes the kernel holds for the send side: sk_wmem_queued for TCP, where it
// covers the whole write queue; sk_wmem_alloc for others (UDP, unix).
uint64_t send_queue_bytes(const SocketRecord& r);

// "tcp", "tcp6", "udp", "udp6", "unix-stream", "unix-dgram", "raw", ...
std::string socket_kind(const SocketRecord& r);
// "ESTABLISHED", "CLOSE_WAIT", ... for TCP; empty otherwise.
std::string_view tcp_state_name(uint8_t state);

// "127.0.0.1" or "::1"; empty for non-inet sockets.
std::string format_address(uint16_t family, const uint8_t (&addr)[LW_ADDR_LEN]);
// "127.0.0.1:8080" or "[::1]:8080"; empty for non-inet sockets.
std::string format_endpoint(uint16_t family, const uint8_t (&addr)[LW_ADDR_LEN], uint16_t port);
std::string remote_endpoint(const SocketRecord& r);
std::string local_endpoint(const SocketRecord& r);

}  // namespace lw
