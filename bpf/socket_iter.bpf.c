// SPDX-License-Identifier: GPL-2.0
/* Walks every file of every process (or of one process, when the link is
 * task-targeted) and emits one lw_socket_record per socket. Reads the socket
 * itself rather than hooking reads, so bytes nobody reads are visible. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "kernel_clock.bpf.h"
#include "leakwatch_abi.h"
#include "socket_constants.bpf.h"
#include "tcp_payload.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The socket reached from bpf_sock_from_file() is an untrusted pointer from
 * 6.18 on, so no helper may take it (bpf_get_socket_cookie,
 * bpf_skc_to_tcp_sock) and bpf_rdonly_cast() is missing before 6.2. What
 * every kernel from 5.11 allows: guarded direct loads of struct sock fields
 * through the BTF-typed pointer (several times cheaper per socket than probe
 * reads), and probe reads (BPF_CORE_READ) for the tcp_sock fields beyond
 * struct sock. CO-RE relocates both. */

static __always_inline void read_addresses(struct lw_socket_record *r, struct sock *sk)
{
	if (r->family == AF_INET) {
		__builtin_memcpy(r->local_addr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(r->remote_addr, &sk->__sk_common.skc_daddr, 4);
	} else if (r->family == AF_INET6) {
		__builtin_memcpy(r->local_addr, &sk->__sk_common.skc_v6_rcv_saddr, LW_ADDR_LEN);
		__builtin_memcpy(r->remote_addr, &sk->__sk_common.skc_v6_daddr, LW_ADDR_LEN);
	}
	if (r->family == AF_INET || r->family == AF_INET6) {
		r->local_port = sk->__sk_common.skc_num;
		r->remote_port = bpf_ntohs(sk->__sk_common.skc_dport);
	}
}

/* Kernels from 6.18 on may keep UDP drop counts per NUMA node. */
static __always_inline __u32 read_drops(struct sock *sk)
{
	if (bpf_core_field_exists(sk->sk_drop_counters)) {
		struct numa_drop_counters *c = sk->sk_drop_counters;
		if (c)
			return c->drops0.counter + c->drops1.counter;
	}
	return sk->sk_drops.counter;
}

/* The test bpf_skc_to_tcp_sock() makes, on fields every kernel lets us load. */
static __always_inline int is_tcp_sock(const struct lw_socket_record *r)
{
	return r->protocol == IPPROTO_TCP && r->type == SOCK_STREAM && (r->family == AF_INET || r->family == AF_INET6);
}

static __always_inline void read_tcp(struct lw_socket_record *r, struct sock *sk)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	struct tcp_payload payload;

	r->flags |= LW_SOCK_IS_TCP;
	r->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	/* Listening sockets reuse these sequence fields for nothing useful;
	 * what they hold is the queue of connections not yet accepted. */
	if (r->state == TCP_LISTEN) {
		r->accept_queue = sk->sk_ack_backlog;
		r->accept_queue_limit = sk->sk_max_ack_backlog;
		return;
	}
	payload = tcp_payload_of(sk->__sk_common.skc_flags, BPF_CORE_READ(tp, bytes_received),
				 BPF_CORE_READ(tp, rcv_nxt), BPF_CORE_READ(tp, copied_seq));
	r->bytes_received = payload.received;
	r->unread = payload.unread;
	r->unacked = BPF_CORE_READ(tp, write_seq) - BPF_CORE_READ(tp, snd_una);
	if (r->state != TCP_CLOSE) {
		r->last_rcv_age_ms = ms_since_jiffies(BPF_CORE_READ(tp, inet_conn.icsk_ack.lrcvtime));
		if (r->last_rcv_age_ms != LW_UNKNOWN_U32)
			r->flags |= LW_SOCK_RCV_AGE_KNOWN;
	}
}

/* Bytes waiting at the reader of a unix stream socket, as SIOCINQ counts
 * them. Kernels from 6.17 keep the sum in unix_sock.inq_len. Before, the
 * kernel sums the receive queue under a lock we cannot take: this walk may
 * meet a queue changing under it (a message read or added meanwhile is
 * counted or not), and stops after LW_UNIX_QUEUE_WALK messages, far more
 * than a stream holds before its writer's buffer is full (212,992 bytes by
 * default). */
#define LW_UNIX_QUEUE_WALK 512

static __always_inline __u32 unix_stream_unread(struct sock *sk)
{
	struct unix_sock *u = (struct unix_sock *)sk;
	struct sk_buff *end = (struct sk_buff *)&sk->sk_receive_queue;
	struct sk_buff *skb;
	__u32 unread = 0;

	if (bpf_core_field_exists(u->inq_len))
		return BPF_CORE_READ(u, inq_len);
	skb = BPF_CORE_READ(sk, sk_receive_queue.next);
	for (int i = 0; i < LW_UNIX_QUEUE_WALK && skb && skb != end; i++) {
		/* A partly read message keeps how much was read in its control block. */
		struct unix_skb_parms *cb = (void *)skb + bpf_core_field_offset(struct sk_buff, cb);

		unread += BPF_CORE_READ(skb, len) - BPF_CORE_READ(cb, consumed);
		skb = BPF_CORE_READ(skb, next);
	}
	return unread;
}

/* Kernels before 6.13 count a file's references in f_count. */
struct file___f_count {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/* The references to a socket's file, less the one the iterator takes while
 * it shows the file. From 6.13 on, f_ref holds the count less one, and
 * values from FILE_REF_RELEASED up for a file being freed. */
static __always_inline __u32 file_refs(struct file *file)
{
	__u64 count;

	if (bpf_core_field_exists(file->f_ref)) {
		__u64 biased = BPF_CORE_READ(file, f_ref.refcnt.counter);

		count = biased >= 0xC000000000000000ULL ? 0 : biased + 1;
	} else {
		count = BPF_CORE_READ((struct file___f_count *)file, f_count.counter);
	}
	return count > 1 ? count - 1 : 0;
}

static __always_inline int is_unix_stream_end(const struct lw_socket_record *r)
{
	return r->family == AF_UNIX && r->type == SOCK_STREAM && r->state != TCP_LISTEN;
}

/* A unix listener's queue is its receive queue: one message per connection
 * not yet accepted. connect() blocks, or fails with EAGAIN, once it holds
 * more than the backlog (unix_recvq_full()); what unix_diag reports. */
static __always_inline int is_unix_listener(const struct lw_socket_record *r)
{
	return r->family == AF_UNIX && (r->type == SOCK_STREAM || r->type == SOCK_SEQPACKET) && r->state == TCP_LISTEN;
}

SEC("iter/task_file")
int dump_sockets(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct lw_socket_record r = {};
	struct socket *sock;
	struct sock *sk;

	if (!task || !file)
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = sock->sk;
	if (!sk)
		return 0;

	r.tgid = task->tgid;
	r.fd = ctx->fd;
	r.inode = file->f_inode->i_ino;
	r.file_refs = file_refs(file);
	r.family = sk->__sk_common.skc_family;
	r.type = sk->sk_type;
	r.protocol = sk->sk_protocol;
	r.state = sk->__sk_common.skc_state;
	r.rmem_alloc = sk->sk_backlog.rmem_alloc.counter;
	r.rcvbuf = sk->sk_rcvbuf;
	r.wmem_queued = sk->sk_wmem_queued;
	/* sk_wmem_alloc starts at 1 so the socket is not freed under a send. */
	r.wmem_alloc = sk->sk_wmem_alloc.refs.counter;
	r.wmem_alloc = r.wmem_alloc > 0 ? r.wmem_alloc - 1 : 0;
	r.sndbuf = sk->sk_sndbuf;
	r.forward_alloc = sk->sk_forward_alloc;
	r.drops = read_drops(sk);
	read_addresses(&r, sk);

	if (is_tcp_sock(&r))
		read_tcp(&r, sk);
	else if (is_unix_stream_end(&r))
		r.unread = unix_stream_unread(sk);
	else if (is_unix_listener(&r)) {
		r.accept_queue = BPF_CORE_READ(sk, sk_receive_queue.qlen);
		r.accept_queue_limit = sk->sk_max_ack_backlog;
	}

	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}
