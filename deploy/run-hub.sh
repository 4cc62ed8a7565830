#!/usr/bin/env bash
# `make run-hub`: a hub and one music box side by side on this machine, to try the whole
# thing in one command. The hub's library is ./var-hub, the box's ./var-box. With Caddy
# installed the hub is served over HTTPS (Caddy's `tls internal`) on a free port; without
# it, the admin alone on http://127.0.0.1. The box runs its sync agent and its kiosk (keys:
# space, n, p, +, -, q). Ctrl-C stops everything.
set -euo pipefail

py="${1:?usage: run-hub.sh PYTHON}"
root="$(pwd)"
hub_data="$root/var-hub"
box_data="$root/var-box"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$hub_data" "$box_data"

free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

hub_port="$(free_port)"
pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT

public="http://127.0.0.1:$hub_port"
ca_args=()
proxy_args=()
if command -v caddy >/dev/null 2>&1; then
  https_port="$(free_port)"
  http_port="$(free_port)"
  public="https://127.0.0.1:$https_port"
  mkdir -p "$hub_data/caddy"
  cat >"$hub_data/caddy/Caddyfile" <<CADDY
{
	admin off
	skip_install_trust
	http_port $http_port
	https_port $https_port
	storage file_system $hub_data/caddy/storage
}

127.0.0.1:$https_port {
	tls internal
	reverse_proxy 127.0.0.1:$hub_port {
		header_up X-Forwarded-For {remote_host}
	}
}
CADDY
  HOME="$hub_data/caddy" XDG_DATA_HOME="$hub_data/caddy" XDG_CONFIG_HOME="$hub_data/caddy" \
    caddy run --config "$hub_data/caddy/Caddyfile" --adapter caddyfile >"$hub_data/caddy/caddy.log" 2>&1 &
  pids+=("$!")
  ca_args=(--ca-file "$hub_data/caddy/storage/pki/authorities/local/root.crt")
  proxy_args=(--behind-proxy)
else
  echo "Caddy is not installed: the hub is served without HTTPS (install the caddy package for HTTPS)."
fi

EVERGREEN_DATA="$hub_data" "$py" -m content.web --hub "${proxy_args[@]}" --host 127.0.0.1 --port "$hub_port" \
  --public-url "$public" >"$hub_data/hub.log" 2>&1 &
pids+=("$!")

echo "Waiting for the hub..."
for _ in $(seq 1 100); do
  if [ -z "${ca_args[*]}" ] || [ -f "${ca_args[1]}" ]; then
    if "$py" - "$public" "${ca_args[@]:1}" <<'PY' 2>/dev/null; then
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2]) if len(sys.argv) > 2 else None
urllib.request.urlopen(sys.argv[1] + "/login", context=ctx, timeout=2)
PY
      break
    fi
  fi
  sleep 0.2
done

if [ ! -f "$box_data/box.json" ]; then
  code="$(EVERGREEN_DATA="$hub_data" "$py" -m content.hub.demo "$hub_data")"
  EVERGREEN_DATA="$box_data" "$py" -m content join "$public" "$code" "${ca_args[@]}"
fi
EVERGREEN_DATA="$box_data" "$py" -m content.sync >"$box_data/sync.log" 2>&1 &
pids+=("$!")

config="$box_data/kiosk.toml"
[ -f "$config" ] || cp "$here/kiosk.example.toml" "$config"
echo
echo "The hub is at $public/ (staff: the one-time code below, or python -m content users add)."
grep -i "one-time code" "$hub_data/hub.log" | tail -n 1 || true
[ -z "${ca_args[*]}" ] || echo "Its certificate is Caddy's own (tls internal): your browser will ask you to accept it."
echo "The box follows it; its kiosk runs here (space plays, q quits)."
EVERGREEN_DATA="$box_data" EVERGREEN_CONFIG="$config" "$py" -m kiosk run --config "$config"
