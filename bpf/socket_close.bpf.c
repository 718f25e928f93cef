// SPDX-License-Identifier: GPL-2.0
/* Emits one lw_close_event when a TCP socket reaches TCP_CLOSE, so that
 * connections opening and closing between two iterator snapshots still have
 * their bytes counted. The close itself often runs in softirq (the peer's
 * last ACK, the TIME_WAIT handoff), where the current task is unrelated to
 * the socket, so the owner is remembered earlier, in socket-local storage,
 * at moments that only happen in the owner's process context. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "leakwatch_abi.h"
#include "socket_constants.bpf.h"
#include "tcp_payload.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* User space may resize it before load; a power of two >= the page size. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} close_events SEC(".maps");

/* Freed by the kernel together with the socket: no entries to expire. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lw_socket_owner);
} socket_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LW_CLOSE_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} close_counters SEC(".maps");

static __always_inline void count(__u32 counter)
{
	__u64 *value = bpf_map_lookup_elem(&close_counters, &counter);

	/* Atomic because the two programs may interrupt each other on one CPU. */
	if (value)
		__sync_fetch_and_add(value, 1);
}

/* The socket's inode, its identity in the iterator's records and in
 * /proc/PID/fd; 0 once the socket is orphaned (closed by its last holder). */
static __always_inline __u64 socket_inode(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;

	if (!sock || !sock->file)
		return 0;
	return sock->file->f_inode->i_ino;
}

static __always_inline void remember_owner(struct sock *sk)
{
	struct lw_socket_owner *owner = bpf_sk_storage_get(&socket_owners, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);

	if (!owner) {
		count(LW_OWNER_STORAGE_FULL);
		return;
	}
	owner->tgid = bpf_get_current_pid_tgid() >> 32;
	owner->inode = socket_inode(sk);
}

/* The socket is usually orphaned by its close: its inode then comes from
 * what remember_owner() saw while it still had one. */
static __always_inline void read_owner(struct lw_close_event *e, struct sock *sk)
{
	struct lw_socket_owner *owner = bpf_sk_storage_get(&socket_owners, sk, NULL, 0);

	e->inode = socket_inode(sk);
	if (!owner)
		return;
	e->tgid = owner->tgid;
	if (!e->inode)
		e->inode = owner->inode;
}

/* The socket's cgroup v2 id: the id of the cgroup's kernfs directory, which
 * is also its inode number under the cgroup2 mount. */
static __always_inline __u64 cgroup_id_of(struct sock *sk)
{
	struct cgroup *cgrp = sk->sk_cgrp_data.cgroup;

	return cgrp ? cgrp->kn->id : 0;
}

static __always_inline void read_bytes(struct lw_close_event *e, struct sock *sk, struct tcp_sock *tp)
{
	struct tcp_payload p =
		tcp_payload_of(sk->__sk_common.skc_flags, tp->bytes_received, tp->rcv_nxt, tp->copied_seq);

	e->bytes_received = p.received;
	e->bytes_consumed = p.received - p.unread;
	e->bytes_acked = tp->bytes_acked;
}

/* The local port comes from inet_sport: releasing the bind bucket during the
 * TIME_WAIT handoff zeroes skc_num before this tracepoint fires. */
static __always_inline void read_endpoints(struct lw_close_event *e, struct sock *sk, struct tcp_sock *tp)
{
	if (e->family == AF_INET)
		__builtin_memcpy(e->remote_addr, &sk->__sk_common.skc_daddr, 4);
	else if (e->family == AF_INET6)
		__builtin_memcpy(e->remote_addr, &sk->__sk_common.skc_v6_daddr, LW_ADDR_LEN);
	e->local_port = bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport);
	e->remote_port = bpf_ntohs(sk->__sk_common.skc_dport);
}

static __always_inline void send_close_event(struct sock *sk, int oldstate)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	struct lw_close_event *e;

	if (!tp)
		return;
	e = bpf_ringbuf_reserve(&close_events, sizeof(*e), 0);
	if (!e) {
		count(LW_CLOSE_EVENTS_LOST);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->cgroup_id = cgroup_id_of(sk);
	read_owner(e, sk);
	e->family = sk->__sk_common.skc_family;
	e->old_state = oldstate;
	read_bytes(e, sk, tp);
	read_endpoints(e, sk, tp);
	bpf_ringbuf_submit(e, 0);
	count(LW_CLOSE_EVENTS_SENT);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state_change, const struct sock *csk, int oldstate, int newstate)
{
	struct sock *sk = (struct sock *)csk;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* connect(), close() and shutdown() are the only ways into these. */
	if (newstate == TCP_SYN_SENT || newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK)
		remember_owner(sk);
	/* tcp_set_state() does not filter CLOSE -> CLOSE; skipping it keeps
	 * at most one event per connection. */
	else if (newstate == TCP_CLOSE && oldstate != TCP_CLOSE)
		send_close_event(sk, oldstate);
	return 0;
}

/* Fires from recvmsg, so the current task is a reader of the socket; this
 * gives accepted connections an owner before the close. */
SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(on_read, struct sock *sk)
{
	remember_owner(sk);
	return 0;
}
