#!/usr/bin/env bash
# An emulated arm64 Debian root for `make test-arm64`: built once with debootstrap and
# qemu-user-static (both from apt), kept in a cache folder, and copied afresh for each run
# so every run installs Evergreen into a clean system.
#
#   tests/arm64/root.sh base RELEASE CACHE     build (or reuse) CACHE/RELEASE/base
#   tests/arm64/root.sh fresh RELEASE CACHE    a new copy of it: prints CACHE/RELEASE/run
#   tests/arm64/root.sh run ROOT CMD...        run CMD inside ROOT as root
#
# The base is a minimal Debian (python3 and ca-certificates, as on Raspberry Pi OS Lite),
# with the release's updates and security suites, and a policy-rc.d so that no package
# starts a service inside it. Nothing of it is ever committed: only this script is.
set -euo pipefail

MIRROR="${ARM64_MIRROR:-http://deb.debian.org/debian}"
# The CPU qemu emulates: the Pi 4's Cortex-A72 (the Pi 5's A76 is alike). qemu's default
# "max" CPU has pointer authentication, which Debian 13 uses in every function call and
# qemu emulates some twenty times slower than the rest; no Pi has it.
CPU="${ARM64_CPU:-cortex-a72}"
SECURITY="${ARM64_SECURITY:-http://deb.debian.org/debian-security}"

die() {
  echo "Error: $*" >&2
  exit 1
}

# qemu-user-static, registered with binfmt_misc, is what lets this x86 machine run arm64
# programs. systemd registers it at boot; where systemd is not running (a container, a CI
# runner), register it here.
ensure_emulation() {
  bash "$(dirname "${BASH_SOURCE[0]}")/../../deploy/apt-ensure.sh" debootstrap qemu-user-static
  local binfmt=/proc/sys/fs/binfmt_misc
  if [ ! -e "$binfmt/register" ]; then
    mount -t binfmt_misc binfmt_misc "$binfmt" || die "cannot mount binfmt_misc: arm64 programs cannot run here."
  fi
  if [ ! -e "$binfmt/qemu-aarch64" ]; then
    local conf=/usr/lib/binfmt.d/qemu-aarch64.conf
    [ -f "$conf" ] || die "$conf is missing: reinstall qemu-user-static."
    /lib/systemd/systemd-binfmt "$conf" || die "cannot register qemu-aarch64 with binfmt_misc."
  fi
  grep -q '^enabled' "$binfmt/qemu-aarch64" || die "qemu-aarch64 is registered but disabled."
}

sources_list() {
  local release="$1"
  printf 'deb %s %s main\n' "$MIRROR" "$release"
  printf 'deb %s %s-updates main\n' "$MIRROR" "$release"
  printf 'deb %s %s-security main\n' "$SECURITY" "$release"
}

build_base() {
  local release="$1" cache="$2"
  local base="$cache/$release/base"
  if [ -f "$base/.complete" ]; then
    echo "arm64 Debian $release root: cached in $base"
    return 0
  fi
  [ -e "/usr/share/debootstrap/scripts/$release" ] || die "debootstrap does not offer $release here."
  local tmp="$cache/$release/base.tmp"
  rm -rf "$tmp"
  mkdir -p "$cache/$release"
  echo "Building an arm64 Debian $release root in $base (debootstrap under emulation; minutes)"
  debootstrap --arch=arm64 --variant=minbase --include=python3,ca-certificates \
    "$release" "$tmp" "$MIRROR"
  sources_list "$release" >"$tmp/etc/apt/sources.list"
  printf '#!/bin/sh\n# No service starts inside a build root.\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 0755 "$tmp/usr/sbin/policy-rc.d"
  rm -rf "$tmp/var/cache/apt/archives/"*.deb
  touch "$tmp/.complete"
  mv "$tmp" "$base"
}

fresh_copy() {
  local release="$1" cache="$2"
  local base="$cache/$release/base" run="$cache/$release/run"
  [ -f "$base/.complete" ] || die "no cached $release root: build it first."
  rm -rf "$run"
  cp -a "$base" "$run"
  rm -f "$run/.complete"
  cp /etc/resolv.conf "$run/etc/resolv.conf"
  echo "$run"
}

# Run a command inside the root, in namespaces of its own: its mounts (/proc, /dev, /sys,
# the download caches) and any process it leaves behind vanish when it ends, and it cannot
# change this machine's host name. It shares the network, to reach the package archives.
run_in() {
  local root="$1"
  shift
  [ -d "$root" ] || die "$root is not a folder."
  local cache_dir
  cache_dir="$(dirname "$root")/downloads"
  mkdir -p "$cache_dir/apt" "$cache_dir/pip"
  # shellcheck disable=SC2016  # expanded by the inner shell
  unshare --mount --uts --ipc --pid --fork --kill-child --propagation private \
    bash -c '
      set -e
      root="$1"; cache="$2"; cpu="$3"; shift 3
      mount -t proc proc "$root/proc"
      mount --rbind /dev "$root/dev"
      mount -t sysfs sysfs "$root/sys"
      mount -t tmpfs tmpfs "$root/dev/shm"
      mkdir -p "$root/var/cache/apt/archives" "$root/root/.cache/pip"
      mount --bind "$cache/apt" "$root/var/cache/apt/archives"
      mount --bind "$cache/pip" "$root/root/.cache/pip"
      exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb QEMU_CPU="$cpu" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
    ' run-in "$root" "$cache_dir" "$CPU" "$@"
}

[ "$(id -u)" -eq 0 ] || die "building and entering a root needs root (sudo)."
case "${1:-}" in
  base) [ "$#" -eq 3 ] || die "usage: $0 base RELEASE CACHE"; ensure_emulation; build_base "$2" "$3" ;;
  fresh) [ "$#" -eq 3 ] || die "usage: $0 fresh RELEASE CACHE"; fresh_copy "$2" "$3" ;;
  run) [ "$#" -ge 3 ] || die "usage: $0 run ROOT CMD..."; ensure_emulation; shift; run_in "$@" ;;
  *) die "usage: $0 base|fresh|run ..." ;;
esac
