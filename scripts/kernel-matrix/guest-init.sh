#!/bin/busybox sh
# shellcheck shell=dash
# PID 1 of a test guest (run-in-guest.sh copies it to /init): mounts what
# leakwatch reads on a real node, runs /command, prints its exit code as
# LEAKWATCH-GUEST-EXIT=<code> and powers off.

# Links the applets (sh, mount, ip, ...) where they are not files already.
/bin/busybox --install -s
mount -t devtmpfs devtmpfs /dev
# The initramfs carries no /dev/console node (making one needs mknod), so the
# kernel started us without stdin, stdout and stderr.
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Delegate controllers to child cgroups, as systemd does on a cgroup v2 node,
# so a test cgroup has memory.stat.
sed 's/[^ ]\+/+&/g' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control
mount -t bpf bpf /sys/fs/bpf
ip link set lo up
# sock_diag for the netlink backend: Debian builds it as modules.
for module in $(cat /modules/order); do
  insmod "/modules/$module.ko" || echo "LEAKWATCH-GUEST-NOTE=insmod $module failed"
done
# Socket workloads hold up to 20,000 descriptors in one process.
ulimit -n 20000

release=$(uname -r)
echo "LEAKWATCH-GUEST-RELEASE=$release"
if [ -r /sys/kernel/btf/vmlinux ]; then btf=yes; else btf=no; fi
echo "LEAKWATCH-GUEST-BTF=$btf"
# libbpf reads a kernel config from one of these two places only.
if [ -e /proc/config.gz ]; then echo "note: this kernel has /proc/config.gz: its config is always readable"; fi
if [ -r "/boot/config-$release" ] || [ -r /proc/config.gz ]; then config=yes; else config=no; fi
echo "LEAKWATCH-GUEST-CONFIG=$config"

LEAKWATCH_REQUIRE_BPF=1 /command
echo "LEAKWATCH-GUEST-EXIT=$?"
poweroff -f
