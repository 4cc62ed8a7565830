"""The kiosk's control protocol, shared by the kiosk (server) and its clients (CLI, admin).

One JSON object per line over a Unix socket in the data folder. Requests:
  {"cmd": "press", "button": "<action>"}   -> {"ok": true} or {"ok": false, "error": "..."}
  {"cmd": "status"}                        -> {"ok": true, "status": {...}}
  {"cmd": "library_changed"}               -> {"ok": true}  (re-read the library now)
The kiosk answers each request with one line and closes the connection.
"""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

TIMEOUT_S = 3.0
MAX_LINE = 64 * 1024


class KioskUnreachable(Exception):
    """The kiosk is not running, or did not answer; the message says so in plain words."""


def request(sock_path: str | Path, message: dict[str, Any], timeout: float = TIMEOUT_S) -> dict[str, Any]:
    """Send one request to the kiosk and return its answer."""
    path = str(sock_path)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(path)
            s.sendall(json.dumps(message).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n") and len(data) < MAX_LINE:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    except (FileNotFoundError, ConnectionRefusedError):
        raise KioskUnreachable("The kiosk is not running.") from None
    except socket.timeout:
        raise KioskUnreachable("The kiosk did not answer in time.") from None
    except OSError as exc:
        raise KioskUnreachable(f"The kiosk could not be reached ({exc.strerror or exc}).") from None
    try:
        return json.loads(data.decode())
    except ValueError:
        raise KioskUnreachable("The kiosk gave an answer that could not be read.") from None


def press(sock_path: str | Path, button: str) -> dict[str, Any]:
    return request(sock_path, {"cmd": "press", "button": button})


def status(sock_path: str | Path) -> dict[str, Any]:
    return request(sock_path, {"cmd": "status"})
