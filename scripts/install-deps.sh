#!/usr/bin/env bash
# Installs every build, test and benchmark dependency from Debian packages.
# Idempotent: apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  clang clang-format llvm libclang-rt-dev libbpf-dev bpftool libelf-dev zlib1g-dev
  prometheus-cpp-dev libfmt-dev libcli11-dev nlohmann-json3-dev libcurl4-openssl-dev
  googletest libgtest-dev libgmock-dev libtsan2 libasan8 libubsan1
  iproute2 procps curl iperf3 prometheus-alertmanager prometheus libcap2-bin
  qemu-system-x86 busybox-static cpio zstd xz-utils
)

if [[ $(id -u) -ne 0 ]]; then
  sudo=sudo
else
  sudo=
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"

# The Debian kernels the kernel matrix boots under QEMU (tests/kernel_matrix).
$sudo "$(dirname "${BASH_SOURCE[0]}")/kernel-matrix/fetch-kernels.sh"
