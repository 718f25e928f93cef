#!/usr/bin/env bash
# Downloads the Debian kernels pinned in kernels.tsv into the kernel cache and
# extracts their vmlinuz, config and the sock_diag modules the netlink backend
# needs (Debian builds them as modules). Idempotent: a .deb already in the cache is
# checked against its SHA256 and not downloaded again.
#
# apt runs with a private configuration under the cache (sources, lists,
# state), so the system's apt sources and state are never read or changed, and
# the kernels come from suites the host need not have (bullseye, backports).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${LEAKWATCH_KERNEL_CACHE:-/var/cache/leakwatch/kernels}
apt_root=$cache/apt
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_root/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State=$apt_root/state"
  -o "Dir::State::status=$apt_root/state/status"
  -o "Dir::Cache=$apt_root/cache"
  -o APT::Architecture=amd64
  -o APT::Architectures=amd64
)
apt_updated=false

manifest_rows() { grep -v '^#' "$here/kernels.tsv"; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

private_apt_update() {
  mkdir -p "$apt_root/state/lists/partial" "$apt_root/cache/archives/partial"
  touch "$apt_root/state/status"
  # Signed by the Debian archive keyring, which holds the bullseye and bookworm keys.
  manifest_rows | cut -f2 | sort -u | sed \
    's|^|deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian |; s|$| main|' \
    >"$apt_root/sources.list"
  apt-get "${apt_opts[@]}" -qq update
  apt_updated=true
}

# Downloads PACKAGE=VERSION to DEB unless DEB is there with the expected hash.
fetch_deb() {
  local package=$1 version=$2 sha256=$3 deb=$4
  if [[ -f $deb && $(sha256_of "$deb") == "$sha256" ]]; then return; fi
  $apt_updated || private_apt_update
  local download
  download=$(mktemp -d "$cache/download.XXXXXX")
  # apt fetches as the unprivileged _apt user, which needs to write here.
  chown _apt "$download" 2>/dev/null || true
  (cd "$download" && apt-get "${apt_opts[@]}" -qq download "$package=$version")
  local got
  got=$(sha256_of "$download"/*.deb)
  if [[ $got != "$sha256" ]]; then
    rm -rf "$download"
    echo "fetch-kernels: SHA256 MISMATCH for $package=$version: got $got, kernels.tsv pins $sha256" >&2
    exit 1
  fi
  mv "$download"/*.deb "$deb"
  rmdir "$download"
}

# The sock_diag modules, in the order insmod needs them (inet_diag first).
diag_modules=(net/ipv4/inet_diag net/ipv4/tcp_diag net/ipv4/udp_diag net/unix/unix_diag)

# Extracts vmlinuz-*, config-* and the diag modules (uncompressed, as
# busybox insmod reads them, into DIR/modules/) into DIR; DIR/sha256 names the
# .deb they came from, written last.
extract_kernel() {
  local deb=$1 sha256=$2 dir=$3
  if [[ -f $dir/sha256 && $(<"$dir/sha256") == "$sha256" && -d $dir/modules ]]; then return; fi
  local tree module
  tree=$(mktemp -d "$cache/extract.XXXXXX")
  dpkg-deb -x "$deb" "$tree"
  rm -rf "$dir"
  mkdir -p "$dir/modules"
  mv "$tree"/boot/vmlinuz-* "$tree"/boot/config-* "$dir/"
  for module in "${diag_modules[@]}"; do
    local file
    file=$(echo "$tree"/lib/modules/*/kernel/"$module".ko*)
    [[ -f $file ]] || { echo "fetch-kernels: $deb has no $module module" >&2; exit 1; }
    case $file in
      *.xz) xz -dc "$file" >"$dir/modules/$(basename "$module").ko" ;;
      *.zst) zstd -qdc "$file" >"$dir/modules/$(basename "$module").ko" ;;
      *) cp "$file" "$dir/modules/$(basename "$module").ko" ;;
    esac
  done
  printf '%s\n' "${diag_modules[@]##*/}" >"$dir/modules/order"
  rm -rf "$tree"
  echo "$sha256" >"$dir/sha256"
}

mkdir -p "$cache/debs"
while IFS=$'\t' read -r name _suite package version sha256; do
  deb=$cache/debs/${package}_${version}_amd64.deb
  fetch_deb "$package" "$version" "$sha256" "$deb"
  extract_kernel "$deb" "$sha256" "$cache/$name"
  echo "fetch-kernels: $name: $package $version in $cache/$name"
done < <(manifest_rows)
