/* TCP byte counters as payload, shared by every program that reports them,
 * so a socket seen live by the iterator and at its close agrees to the byte.
 * Takes the raw fields, because the programs read them differently: the
 * close programs through a trusted tcp_sock, the iterator by probe reads.
 * Include after vmlinux.h. */
#ifndef LEAKWATCH_TCP_PAYLOAD_BPF_H
#define LEAKWATCH_TCP_PAYLOAD_BPF_H

struct tcp_payload {
	__u64 received; /* payload that arrived */
	__u32 unread;   /* payload that arrived and was not read */
};

/* The kernel counts the peer's FIN as one byte of bytes_received and of
 * rcv_nxt (and of copied_seq once the application reads end-of-file).
 * SOCK_DONE in sk_flags is set exactly when a FIN was accepted, as tcp_inq()
 * knows. */
static __always_inline struct tcp_payload tcp_payload_of(unsigned long skc_flags, __u64 bytes_received, __u32 rcv_nxt,
							 __u32 copied_seq)
{
	__u32 fin = (skc_flags & (1UL << SOCK_DONE)) ? 1 : 0;
	struct tcp_payload p = {
		.received = bytes_received - fin,
		.unread = rcv_nxt - copied_seq,
	};

	/* The FIN comes last: it is still unread whenever anything is. */
	if (fin && p.unread > 0)
		p.unread--;
	return p;
}

#endif /* LEAKWATCH_TCP_PAYLOAD_BPF_H */
