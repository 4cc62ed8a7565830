#!/usr/bin/env bash
# Install the named Debian packages that are not installed yet (with sudo when not root).
# Does nothing, and asks for nothing, when they are all present already.
# APT_LISTS_FRESH=1: the caller has just run apt-get update, so it is not run again.
set -euo pipefail

missing=()
for pkg in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "These system packages are needed but this is not a Debian-like system: ${missing[*]}" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Wait for another install to finish instead of failing on the dpkg lock.
lock=(-o DPkg::Lock::Timeout=600)
[ "${APT_LISTS_FRESH:-0}" = 1 ] || $sudo apt-get "${lock[@]}" update -qq
$sudo apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}"
