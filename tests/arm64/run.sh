#!/usr/bin/env bash
# `make test-arm64`: Evergreen installed and played on arm64 Debian, emulated on this
# machine (qemu-user-static). Slow, so not part of `make test`.
#
#   tests/arm64/run.sh [RELEASE...]    default: bookworm, and trixie when debootstrap offers it
#
# For each release: a fresh copy of a cached minimal arm64 root (built the first time);
# this checkout copied in; `deploy/install.sh --no-systemd` run inside for real (apt, the
# service user, the venv from PyPI, the config); then inside.py checks that songs in three
# formats import, the kiosk answers and plays, and the admin answers its login page. Last,
# the venv is rebuilt with `--wheels` from a folder deploy/download-wheels.sh filled on
# this x86 machine, with no package index, and the library must still be there.
#
# ARM64_CACHE: where the roots and downloads are kept (default ~/.cache/evergreen-arm64).
# ARM64_CPU: the CPU qemu emulates (default cortex-a72, the Pi 4's; see root.sh).
# PY: a Python with numpy and soundfile, to write the test songs (default .venv/bin/python).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${ARM64_CACHE:-$HOME/.cache/evergreen-arm64}"
PY="${PY:-$REPO/.venv/bin/python}"
ROOT_SH="$REPO/tests/arm64/root.sh"
LABEL="emulated arm64, not a Pi"

die() {
  echo "Error: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "make test-arm64 builds and enters a Debian root: run it as root."
[ -x "$PY" ] || die "$PY is missing: run make setup-test first."

releases=("$@")
if [ "${#releases[@]}" -eq 0 ]; then
  releases=(bookworm)
  bash "$REPO/deploy/apt-ensure.sh" debootstrap
  [ -e /usr/share/debootstrap/scripts/trixie ] && releases+=(trixie)
fi

# Files of this checkout as git sees them (committed or not), without .venv and the like.
copy_checkout() {
  local dest="$1"
  mkdir -p "$dest"
  git -C "$REPO" ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$REPO/$f" ] && printf '%s\0' "$f"; done \
    | tar -C "$REPO" --null -T - -cf - | tar -C "$dest" -xf -
}

write_songs() {
  local dest="$1"
  mkdir -p "$dest"
  (cd "$REPO" && "$PY" - "$dest" <<'EOF'
import sys
from pathlib import Path
from tests.audio import write_song
dest = Path(sys.argv[1])
write_song(dest / "Vera Lynn - We'll Meet Again.mp3", 330, 30, tags={"title": "We'll Meet Again", "artist": "Vera Lynn"})
write_song(dest / "Moonlight Serenade.ogg", 440, 30, tags={"title": "Moonlight Serenade", "artist": "Glenn Miller"})
write_song(dest / "Moon River.flac", 550, 30, tags={"title": "Moon River", "artist": "Andy Williams"})
EOF
  )
}

seconds_since() {
  echo $(( $(date +%s) - $1 ))
}

summary=()
failed=0

check_release() {
  local release="$1" started root log out took pyver
  started="$(date +%s)"
  mkdir -p "$CACHE/$release"
  log="$CACHE/$release/log"
  : >"$log"
  echo
  echo "=== arm64 Debian $release ($LABEL); full log: $log"

  local had_root=cached
  [ -f "$CACHE/$release/base/.complete" ] || had_root=built
  local t0
  t0="$(date +%s)"
  bash "$ROOT_SH" base "$release" "$CACHE" >>"$log" 2>&1 || { tail -n 20 "$log"; return 1; }
  local root_took
  root_took="$(seconds_since "$t0")"
  root="$(bash "$ROOT_SH" fresh "$release" "$CACHE")"
  copy_checkout "$root/root/evergreen" || return 1
  write_songs "$root/media/usb/songs" >>"$log" 2>&1 || { tail -n 20 "$log"; return 1; }
  pyver="$(bash "$ROOT_SH" run "$root" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" || return 1
  if bash "$ROOT_SH" run "$root" sh -c 'command -v cc || command -v gcc' >/dev/null; then
    echo "FAIL  the $release root has a compiler: it would not show that none is needed"; return 1
  fi
  echo "root: $had_root ($root_took s); Python $pyver inside"

  # The care group's way: wheels fetched here, on x86, for the Pi's Python.
  t0="$(date +%s)"
  bash "$REPO/deploy/download-wheels.sh" "$root/root/wheels" --python "$pyver" >>"$log" 2>&1 \
    || { tail -n 20 "$log"; return 1; }
  local wheels_took
  wheels_took="$(seconds_since "$t0")"

  # pip inside the root reaches PyPI only where this machine's network lets a plain Debian
  # trust PyPI's certificate; elsewhere the first install takes the care group's way too.
  local pip_from="PyPI" extra=""
  if ! bash "$ROOT_SH" run "$root" python3 -c \
      'import urllib.request; urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=30)' >>"$log" 2>&1; then
    pip_from="the wheels folder (PyPI cannot be reached from inside the root here)"
    extra="--wheels /root/wheels"
  fi
  echo "install.sh --no-systemd $extra (apt, user, venv from $pip_from, config) ..."
  t0="$(date +%s)"
  out="$CACHE/$release/install.out"
  # From the checkout's folder, as the README says (cd evergreen; sudo deploy/install.sh).
  if ! bash "$ROOT_SH" run "$root" bash -c "cd /root/evergreen && exec bash deploy/install.sh --no-systemd $extra" \
      >"$out" 2>&1; then
    cat "$out" >>"$log"
    tail -n 30 "$out"
    echo "FAIL  install.sh failed inside the arm64 $release root"
    return 1
  fi
  local install_took
  install_took="$(seconds_since "$t0")"
  cat "$out" >>"$log"
  local gpio
  gpio="$(grep -E 'GPIO buttons are (on|off)' "$out" || true)"
  [ "$(printf '%s' "$gpio" | grep -c .)" -eq 1 ] || { echo "FAIL  install.sh did not say once where GPIO stands: $gpio"; return 1; }
  echo "ok    installed in $install_took s with no compiler on the system; ${gpio#"${gpio%%[! ]*}"}"

  out="$CACHE/$release/inside.out"
  if ! bash "$ROOT_SH" run "$root" /opt/evergreen/venv/bin/python -P /root/evergreen/tests/arm64/inside.py /media/usb/songs \
      2>&1 | tee "$out"; then
    cat "$out" >>"$log"
    return 1
  fi
  cat "$out" >>"$log"

  echo "install.sh --no-systemd --skip-packages --wheels (a new venv, no package index) ..."
  t0="$(date +%s)"
  if ! bash "$ROOT_SH" run "$root" bash -c \
      'rm -rf /opt/evergreen/venv && exec bash /root/evergreen/deploy/install.sh --no-systemd --skip-packages --wheels /root/wheels' \
      >>"$log" 2>&1; then
    tail -n 30 "$log"
    echo "FAIL  install.sh --wheels failed inside the arm64 $release root"
    return 1
  fi
  local wheels_install_took
  wheels_install_took="$(seconds_since "$t0")"
  echo "ok    reinstalled from wheels in $wheels_install_took s"
  bash "$ROOT_SH" run "$root" /opt/evergreen/venv/bin/python -P /root/evergreen/tests/arm64/inside.py --again 2>&1 \
    | tee -a "$log" | grep -v '^ok    aarch64' || return 1

  took="$(seconds_since "$started")"
  summary+=("Debian $release ($LABEL), Python $pyver: root $had_root in $root_took s; install.sh $install_took s (Python packages from $pip_from)"
            "  wheels downloaded on x86 in $wheels_took s; install.sh --wheels (venv only) $wheels_install_took s"
            "$(sed -n '/^timings/,$p' "$CACHE/$release/inside.out" | sed 1d)"
            "  whole check for $release: $took s")
}

total_started="$(date +%s)"
for release in "${releases[@]}"; do
  if ! check_release "$release"; then
    failed=1
    summary+=("Debian $release: FAILED (see $CACHE/$release/log)")
  fi
done

echo
echo "=== Summary ($LABEL; qemu emulating a ${ARM64_CPU:-cortex-a72} on this machine: the figures say how the parts compare, not how fast a Pi is)"
printf '%s\n' "${summary[@]}"
echo "make test-arm64 took $(seconds_since "$total_started") s"
exit "$failed"
