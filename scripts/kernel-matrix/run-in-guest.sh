#!/usr/bin/env bash
# Boots a kernel of kernels.tsv under QEMU (TCG) with an initramfs of
# busybox, guest-init.sh as /init, the kernel's sock_diag modules, and the
# given binaries at their host paths with their shared libraries; runs
# COMMAND there as root and exits with its exit code. The guest console
# streams to stdout and to a log file.
#
#   run-in-guest.sh KERNEL --with-config|--without-config [--file PATH]...
#                   [--timeout SECONDS] [--log FILE] -- COMMAND [ARG]...
#
# --with-config puts the kernel's config at /boot/config-$(uname -r), where
# libbpf finds it; --without-config leaves /boot out, as in a container that
# does not mount it. --file adds a binary COMMAND runs (the test binaries have
# the paths of lw-workload and leakwatch compiled in); COMMAND's own binary is
# always added. A guest that does not report an exit code before the timeout
# (LEAKWATCH_GUEST_TIMEOUT, default 900 s) fails with 124, one that crashes
# with 125.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${LEAKWATCH_KERNEL_CACHE:-/var/cache/leakwatch/kernels}
usage="usage: $0 KERNEL --with-config|--without-config [--file PATH]... [--timeout SECONDS] [--log FILE] -- COMMAND..."

(($# >= 2)) || { echo "$usage" >&2; exit 2; }
kernel=$1 mode=$2
shift 2
[[ $mode == --with-config || $mode == --without-config ]] || { echo "$usage" >&2; exit 2; }
files=()
timeout=${LEAKWATCH_GUEST_TIMEOUT:-900}
log=${TMPDIR:-/tmp}/leakwatch-guest-$kernel-${mode#--}.log
while (($#)); do
  case $1 in
    --file) files+=("$2"); shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
(($#)) || { echo "$usage" >&2; exit 2; }

# The cache must hold exactly the .deb kernels.tsv pins (fetch-kernels.sh).
pinned=$(awk -F'\t' -v k="$kernel" '$1 == k { print $5 }' "$here/kernels.tsv")
[[ -n $pinned ]] || { echo "run-in-guest: no kernel '$kernel' in kernels.tsv" >&2; exit 2; }
if [[ ! -f $cache/$kernel/sha256 || $(<"$cache/$kernel/sha256") != "$pinned" || ! -d $cache/$kernel/modules ]]; then
  echo "run-in-guest: kernel $kernel is not in $cache: run scripts/kernel-matrix/fetch-kernels.sh" >&2
  exit 2
fi
vmlinuz=$(echo "$cache/$kernel"/vmlinuz-*)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
# guest-init.sh links the busybox applets into these at boot.
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,tmp}

# COMMAND's binary comes along unless busybox provides it (/bin/sh, say).
if [[ $1 == /* ]] && ! /bin/busybox --list-full | grep -qxF "${1#/}"; then files+=("$1"); fi
# Each file with the libraries ldd names: the dynamic loader by its path, the
# others after "=>"; static binaries and scripts have none.
echo /bin/busybox >"$work/files"
for file in "${files[@]}"; do
  [[ -f $file ]] || { echo "run-in-guest: $file: no such file" >&2; exit 2; }
  libs=$(ldd "$file" 2>/dev/null || true)
  if grep 'not found' <<<"$libs" >&2; then
    echo "run-in-guest: $file: shared libraries not found" >&2
    exit 2
  fi
  { echo "$file"; awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$libs"; } >>"$work/files"
done
# Copied at their host paths; -h stores what a symlink points to (libfoo.so.1
# -> libfoo.so.1.2.3, and /lib -> usr/lib on a merged-/usr host) as a file
# under the link's name.
sed 's|^/||' "$work/files" | sort -u | tar -C / -chf - -T - | tar -C "$root" -xf -
if [[ $mode == --with-config ]]; then
  mkdir -p "$root/boot"
  cp "$cache/$kernel"/config-* "$root/boot/"
fi
# The sock_diag modules (fetch-kernels.sh), loaded by guest-init.sh: the
# netlink backend's kernel side.
cp -r "$cache/$kernel/modules" "$root/modules"
cp "$here/guest-init.sh" "$root/init"
{
  echo '#!/bin/sh'
  printf 'exec'
  printf ' %q' "$@"
  echo
} >"$root/command"
chmod 755 "$root/init" "$root/command"
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$work/initrd"

echo "run-in-guest: booting $kernel ($vmlinuz) $mode, timeout ${timeout}s, log $log"
set +e
# -nodefaults: no VGA, network card or parallel port to probe; the console
# is the first serial port on stdout. stdin is closed so qemu never puts a
# terminal into raw mode. thread=single: one host thread runs both vCPUs in
# turn. With a thread per vCPU, a guest kernel patching its own code (static
# keys turned on when BPF programs attach) raced with the other vCPU running
# that code: 6.12 died once of "Oops: int3" in __alloc_pages (2026-12-05).
timeout --kill-after=10 "$timeout" qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp 2 -m 2048 \
  -nodefaults -display none -serial stdio -no-reboot \
  -kernel "$vmlinuz" -initrd "$work/initrd" -append "console=ttyS0 panic=-1 quiet" \
  </dev/null | tee "$log"
qemu_status=${PIPESTATUS[0]}
set -e

code=$(tr -d '\r' <"$log" | sed -n 's/^LEAKWATCH-GUEST-EXIT=\([0-9]*\)$/\1/p' | tail -n 1)
if [[ -n $code ]]; then exit "$code"; fi
if ((qemu_status == 124 || qemu_status == 137)); then
  echo "run-in-guest: FAILED: the guest did not finish within ${timeout}s (log $log)" >&2
  exit 124
fi
echo "run-in-guest: FAILED: the guest stopped without an exit code (qemu status $qemu_status, log $log)" >&2
exit 125
