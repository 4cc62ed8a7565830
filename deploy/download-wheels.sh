#!/usr/bin/env bash
# Fetch every Python package the appliance needs, as ready-made arm64 wheels, into DIR, on
# any machine with pip and a network (an x86 laptop will do). Then on each Pi:
#     sudo deploy/install.sh --wheels DIR
# installs them from DIR alone, with no package index: many boxes from one download.
#
#   deploy/download-wheels.sh DIR [--python 3.11] [--python 3.13] [--pip PATH]
#
# Raspberry Pi OS Bookworm (Debian 12) has Python 3.11, Trixie (Debian 13) 3.13; the
# default is both, into one folder. For each it runs
#     pip download --only-binary=:all: --platform manylinux2014_aarch64 \
#         --platform manylinux_2_28_aarch64 (... up to manylinux_2_36_aarch64) \
#         --implementation cp --python-version 3.11 -d DIR -r REQUIREMENTS
# where REQUIREMENTS is requirements.txt less what the Pi takes from apt
# (deploy/python-from-debian.txt): those have no arm64 wheel on PyPI.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PIP=(python3 -m pip)
DEST=""
VERSIONS=()

die() {
  echo "Error: $*" >&2
  exit 1
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --python)
      [ "$#" -ge 2 ] || die "--python needs a version such as 3.11."
      [[ "$2" =~ ^3\.[0-9]+$ ]] || die "--python takes a version such as 3.11, not $2."
      VERSIONS+=("$2"); shift ;;
    --pip)
      [ "$#" -ge 2 ] || die "--pip needs the path of a Python that has pip."
      PIP=("$2" -m pip); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)." ;;
    *) [ -z "$DEST" ] || die "one folder only."; DEST="$1" ;;
  esac
  shift
done
[ -n "$DEST" ] || die "name the folder to fill, e.g. deploy/download-wheels.sh /media/usb/wheels"
[ "${#VERSIONS[@]}" -gt 0 ] || VERSIONS=(3.11 3.13)

# Every glibc the wheels may ask for, up to Debian 12's 2.36: newer wheels are often
# manylinux_2_28 only, and pip does not count that as manylinux2014.
platforms=(--platform manylinux2014_aarch64)
for minor in $(seq 17 36); do
  platforms+=(--platform "manylinux_2_${minor}_aarch64")
done

reqs="$(mktemp)"
trap 'rm -f "$reqs"' EXIT
# requirements.txt without the lines for what Debian provides (names compared as pip
# does: case, "-", "_" and "." alike).
skip="$(sed -e 's/#.*//' "$SRC/deploy/python-from-debian.txt" | awk 'NF >= 2 { print tolower($1) }' \
  | tr '_.' '--')"
while IFS= read -r line; do
  name="$(printf '%s\n' "$line" | sed -e 's/#.*//' | grep -oE '^[A-Za-z0-9][A-Za-z0-9._-]*' || true)"
  if [ -n "$name" ] && printf '%s\n' "$skip" | grep -qxF "$(printf '%s' "$name" | tr 'A-Z_.' 'a-z--')"; then
    continue
  fi
  printf '%s\n' "$line"
done <"$SRC/requirements.txt" >"$reqs"

mkdir -p "$DEST"
for version in "${VERSIONS[@]}"; do
  echo "Python $version, arm64: downloading into $DEST"
  "${PIP[@]}" download --disable-pip-version-check --quiet --only-binary=:all: "${platforms[@]}" \
    --implementation cp --python-version "$version" -d "$DEST" -r "$reqs"
done
echo "$(find "$DEST" -maxdepth 1 -name '*.whl' | wc -l) wheels in $DEST. On each Pi: sudo deploy/install.sh --wheels $DEST"
