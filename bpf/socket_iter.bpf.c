// SPDX-License-Identifier: GPL-2.0
/* Walks every file of every process (or of one process, when the link is
 * task-targeted) and emits one lw_socket_record per socket. Reads the socket
 * itself rather than hooking reads, so bytes nobody reads are visible. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "leakwatch_abi.h"
#include "tcp_payload.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* libbpf fills this from the kernel config; 0 when the config is unreadable. */
extern int CONFIG_HZ __kconfig __weak;

#define AF_INET 2
#define AF_INET6 10
#define TCP_LISTEN 10
#define TCP_CLOSE 7

/* Every access below goes through BTF-typed pointers: the verifier turns
 * them into guarded direct loads, several times cheaper per socket than
 * bpf_probe_read_kernel calls (BPF_CORE_READ), and CO-RE still relocates them. */

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

static __always_inline void read_tcp(struct lw_socket_record *r, struct sock *sk, struct tcp_sock *tp)
{
	struct tcp_payload payload;

	r->flags |= LW_SOCK_IS_TCP;
	r->copied_seq = tp->copied_seq;
	r->rcv_nxt = tp->rcv_nxt;
	r->bytes_acked = tp->bytes_acked;
	/* Listening sockets reuse these sequence fields for nothing useful. */
	if (r->state == TCP_LISTEN)
		return;
	payload = tcp_payload_of(sk, tp);
	r->bytes_received = payload.received;
	r->unread = payload.unread;
	r->unacked = tp->write_seq - tp->snd_una;
	if (CONFIG_HZ > 0 && r->state != TCP_CLOSE) {
		__u32 now = (__u32)bpf_jiffies64();
		__u32 last = tp->inet_conn.icsk_ack.lrcvtime;
		__u64 age_ms = (__u64)(now - last) * 1000 / CONFIG_HZ;

		r->last_rcv_age_ms = age_ms > LW_UNKNOWN_U32 - 1 ? LW_UNKNOWN_U32 - 1 : age_ms;
		r->flags |= LW_SOCK_RCV_AGE_KNOWN;
	}
}

SEC("iter/task_file")
int dump_sockets(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct lw_socket_record r = {};
	struct socket *sock;
	struct tcp_sock *tp;
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
	r.cookie = bpf_get_socket_cookie(sk);
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

	tp = bpf_skc_to_tcp_sock(sk);
	if (tp)
		read_tcp(&r, sk, tp);

	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}
