/* Jiffies to milliseconds without the kernel config. libbpf fills a
 * CONFIG_HZ __kconfig extern only from /boot/config-* or /proc/config.gz,
 * and a container that mounts no /boot on a distribution kernel without
 * /proc/config.gz has neither: the whole object then fails to load.
 * Include after vmlinux.h. */
#ifndef LEAKWATCH_KERNEL_CLOCK_BPF_H
#define LEAKWATCH_KERNEL_CLOCK_BPF_H

#include <bpf/bpf_helpers.h>

#include "leakwatch_abi.h"

/* Found once per loaded program: HZ is fixed when the kernel is built. */
static __u32 lw_cached_hz;

/* jiffies_64 starts at INITIAL_JIFFIES, 300 s of ticks before it wraps 32
 * bits (include/linux/jiffies.h), and advances HZ per second of
 * CLOCK_MONOTONIC; so jiffies_64 - 2^32 = HZ * (monotonic seconds - 300).
 * Of the rates x86 and arm64 kernels can be built with, exactly one fits
 * within a second of ticks, except within about a second of 300 s of
 * uptime, where every rate fits and this returns 0 (unknown) until later. */
static __always_inline __u32 kernel_hz(void)
{
	const __s64 rates[] = {100, 250, 300, 1000};
	__s64 jiffies_since_wrap, ms_since_wrap;
	__u32 found = 0, fits = 0;

	if (lw_cached_hz)
		return lw_cached_hz;
	jiffies_since_wrap = (__s64)(bpf_jiffies64() - (1ULL << 32));
	ms_since_wrap = (__s64)(bpf_ktime_get_ns() / 1000000) - 300 * 1000;
	for (int i = 0; i < 4; i++) {
		/* In thousandths of a tick, to stay in integers. */
		__s64 off = jiffies_since_wrap * 1000 - rates[i] * ms_since_wrap;
		__s64 one_second = rates[i] * 1000;

		if (off > -one_second && off < one_second) {
			found = rates[i];
			fits++;
		}
	}
	if (fits != 1)
		return 0;
	lw_cached_hz = found;
	return found;
}

/* Milliseconds since a 32-bit jiffies stamp such as icsk_ack.lrcvtime;
 * LW_UNKNOWN_U32 when the tick rate is not known yet. */
static __always_inline __u32 ms_since_jiffies(__u32 stamp)
{
	__u32 hz = kernel_hz();
	__u64 ms;

	if (!hz)
		return LW_UNKNOWN_U32;
	ms = (__u64)((__u32)bpf_jiffies64() - stamp) * 1000 / hz;
	return ms > LW_UNKNOWN_U32 - 1 ? LW_UNKNOWN_U32 - 1 : ms;
}

#endif /* LEAKWATCH_KERNEL_CLOCK_BPF_H */
