#!/usr/bin/env bash
# `make run` on a laptop or a Pi with a desktop: the admin in the background, the kiosk in
# the foreground (it reads the keyboard: space, n, p, +, -, q). Ctrl-C stops both.
set -euo pipefail

py="${1:?usage: run-dev.sh PYTHON}"
: "${EVERGREEN_DATA:?EVERGREEN_DATA must be set}"
port="${EVERGREEN_PORT:-8080}"
config="$EVERGREEN_DATA/kiosk.toml"
here="$(cd "$(dirname "$0")" && pwd)"

if [ ! -f "$config" ]; then
  cp "$here/kiosk.example.toml" "$config"
  echo "Wrote the kiosk's settings to $config (edit it to change buttons, volume, session length)."
fi
export EVERGREEN_CONFIG="$config"
admin_config="$EVERGREEN_DATA/admin.toml"
if [ ! -f "$admin_config" ]; then
  sed "s|^public_url = \"\"\$|public_url = \"http://127.0.0.1:$port\"|" "$here/admin.example.toml" >"$admin_config"
  echo "Wrote the admin's settings to $admin_config (its public address is used in invite links)."
fi
export EVERGREEN_ADMIN_CONFIG="$admin_config"

"$py" -m content.web --host 127.0.0.1 --port "$port" &
admin=$!
stop_admin() { kill "$admin" 2>/dev/null || true; wait "$admin" 2>/dev/null || true; }
trap stop_admin EXIT

echo "The admin is at http://127.0.0.1:$port/ (its first-login code appears below the first time)."
"$py" -m kiosk run --config "$config"
