/* Everything that crosses the kernel/user boundary: record layouts and
 * constants shared by the BPF programs and user space. Fixed-size types
 * only; no pointers. Changing a layout changes both sides at once. */
#ifndef LEAKWATCH_ABI_H
#define LEAKWATCH_ABI_H

#ifdef __BPF__
/* vmlinux.h already defines the __uN types. */
#else
#include <linux/types.h>
#endif

#define LW_ADDR_LEN 16

/* Sentinel for "the kernel does not tell us this value". */
#define LW_UNKNOWN_U32 0xffffffffu

enum lw_socket_flags {
	LW_SOCK_IS_TCP = 1 << 0,        /* the tcp_sock fields below are valid */
	LW_SOCK_RCV_AGE_KNOWN = 1 << 1, /* last_rcv_age_ms is valid */
};

/* One record per socket file descriptor, emitted by the iter/task_file
 * program with bpf_seq_write; user space reads them as a byte stream. */
struct lw_socket_record {
	__u32 tgid;                    /* owning process (thread-group id) */
	__u32 fd;                      /* file descriptor number in that process */
	__u64 inode;                   /* socket inode, as in /proc/PID/fd -> socket:[N]: the socket's
					* identity, stable for its life and the same in every process
					* holding it (the cookie is out of the iterator's reach: see
					* socket_iter.bpf.c) */
	__u16 family;                  /* AF_INET, AF_INET6, AF_UNIX, ... */
	__u16 type;                    /* SOCK_STREAM, SOCK_DGRAM, ... */
	__u16 protocol;                /* IPPROTO_TCP, IPPROTO_UDP, 0 for unix */
	__u8 state;                    /* sk_state: TCP_* numbering for TCP */
	__u8 flags;                    /* enum lw_socket_flags */
	__u16 local_port;              /* host byte order; 0 for unix */
	__u16 remote_port;             /* host byte order; 0 when not connected */
	__u8 local_addr[LW_ADDR_LEN];  /* IPv4 in the first 4 bytes, or IPv6 */
	__u8 remote_addr[LW_ADDR_LEN]; /* same encoding as local_addr */
	__u32 rmem_alloc;              /* bytes in the receive queue (sk_rmem_alloc) */
	__s32 rcvbuf;                  /* receive buffer limit (sk_rcvbuf) */
	__u32 wmem_queued;             /* bytes queued for sending, TCP (sk_wmem_queued) */
	__u32 wmem_alloc;              /* send bytes held by the kernel (sk_wmem_alloc) */
	__s32 sndbuf;                  /* send buffer limit (sk_sndbuf) */
	__s32 forward_alloc;           /* memory reserved ahead of use (sk_forward_alloc) */
	__u32 drops;                   /* packets dropped on this socket (sk_drops) */
	__u64 bytes_received;     /* TCP: payload received in sequence (RFC 4898 bytes_received, less the peer's FIN) */
	__u64 bytes_acked;        /* TCP: bytes the peer acknowledged (RFC 4898) */
	__u32 unread;             /* TCP: payload arrived but not read (rcv_nxt - copied_seq, less the peer's FIN);
				   * bytes_received - unread is the read position, in payload bytes.
				   * Unix stream, not listening: bytes waiting at this end, the reader
				   * (what SIOCINQ answers); the writer's sk_wmem_alloc holds their memory */
	__u32 unacked;            /* TCP: bytes written but not acknowledged (write_seq - snd_una) */
	__u32 last_rcv_age_ms;    /* TCP: ms since the last data segment arrived */
	__u32 accept_queue;       /* listener: connections waiting to be accepted (TCP: sk_ack_backlog;
				   * unix stream or seqpacket: its receive queue's length) */
	__u32 accept_queue_limit; /* listener: listen()'s backlog, capped by somaxconn
				   * (sk_max_ack_backlog); past limit + 1 the kernel drops SYNs
				   * (TCP) or a unix connect() blocks or fails with EAGAIN */
	__u32 file_refs;          /* references to the socket's file: one per descriptor in any process, and
				   * any the kernel holds for a while (a call in progress in a process of
				   * several threads, a descriptor in flight); more than this process's
				   * descriptors of the socket means another may hold it. 0: unknown */
};

/* Who owns a socket, kept in socket-local storage: recorded at moments that
 * only happen in the owner's process context (connect, close, shutdown,
 * reads), because the final close often runs in softirq, where the current
 * task is whoever the interrupt happened to land on. */
struct lw_socket_owner {
	__u64 inode;    /* socket inode while the socket still had a file */
	__u32 tgid;     /* last process seen acting on the socket */
	__u32 reserved; /* keeps the struct a multiple of 8 bytes; always 0 */
};

/* Sent through the ring buffer when a TCP socket reaches TCP_CLOSE, so the
 * bytes of connections that open and close between two snapshots are
 * counted exactly. */
struct lw_close_event {
	__u64 inode;                   /* socket inode, as in lw_socket_record; 0 for a connection that
					* never had a file (reset while in the accept queue) */
	__u64 cgroup_id;               /* cgroup v2 id of the socket (sk_cgrp_data); 0 if none */
	__u64 bytes_received;          /* payload received: final tcp_sock.bytes_received less the peer's FIN,
					* which the kernel counts as one byte once accepted */
	__u64 bytes_consumed;          /* payload the application read: bytes_received - (rcv_nxt - copied_seq),
					* the FIN again left out of both */
	__u64 bytes_acked;             /* final tcp_sock.bytes_acked, as the kernel counts it: one more for our
					* FIN once acked, and one more for our SYN on the connecting side */
	__u32 tgid;                    /* owner from lw_socket_owner; 0 when never seen in process context */
	__u16 family;                  /* AF_INET or AF_INET6 */
	__u8 old_state;                /* TCP state before CLOSE */
	__u8 pad;                      /* always 0 */
	__u16 local_port;              /* host byte order */
	__u16 remote_port;             /* host byte order */
	__u8 remote_addr[LW_ADDR_LEN]; /* same encoding as lw_socket_record */
	__u32 reserved;                /* keeps the size a multiple of 8 with no hidden padding; always 0 */
};

/* Indexes of the per-CPU counter array of the close-event program. */
enum lw_close_counter {
	LW_CLOSE_EVENTS_SENT = 0,  /* events written to the ring buffer */
	LW_CLOSE_EVENTS_LOST = 1,  /* events dropped: ring buffer full */
	LW_OWNER_STORAGE_FULL = 2, /* owner not recorded: socket storage allocation failed */
	LW_CLOSE_COUNTER_MAX = 3,
};

/* Both compilers (clang for BPF, the C++ compiler for user space) check the
 * same numbers, so a layout they disagree on fails the build, not a pass. */
#ifdef __cplusplus
#define LW_ABI_ASSERT(cond) static_assert(cond, #cond)
#else
#define LW_ABI_ASSERT(cond) _Static_assert(cond, #cond)
#endif
#define LW_ABI_OFFSET(type, field, at) LW_ABI_ASSERT(__builtin_offsetof(struct type, field) == (at))

LW_ABI_ASSERT(sizeof(struct lw_socket_record) == 128);
LW_ABI_OFFSET(lw_socket_record, inode, 8);
LW_ABI_OFFSET(lw_socket_record, family, 16);
LW_ABI_OFFSET(lw_socket_record, local_addr, 28);
LW_ABI_OFFSET(lw_socket_record, rmem_alloc, 60);
LW_ABI_OFFSET(lw_socket_record, bytes_received, 88);
LW_ABI_OFFSET(lw_socket_record, unread, 104);
LW_ABI_OFFSET(lw_socket_record, last_rcv_age_ms, 112);
LW_ABI_OFFSET(lw_socket_record, accept_queue, 116);
LW_ABI_OFFSET(lw_socket_record, file_refs, 124);

LW_ABI_ASSERT(sizeof(struct lw_socket_owner) == 16);
LW_ABI_OFFSET(lw_socket_owner, tgid, 8);

LW_ABI_ASSERT(sizeof(struct lw_close_event) == 72);
LW_ABI_OFFSET(lw_close_event, cgroup_id, 8);
LW_ABI_OFFSET(lw_close_event, bytes_acked, 32);
LW_ABI_OFFSET(lw_close_event, tgid, 40);
LW_ABI_OFFSET(lw_close_event, remote_addr, 52);

#endif /* LEAKWATCH_ABI_H */
