"""The kiosk's side of the control socket (protocol in content.control).

The CLI's `press`/`status` and the admin's on-screen panel talk to it. Each connection
carries one JSON request line and gets one JSON answer line. Handlers only hand the
request to the controller's queue.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any

from content import control
from kiosk.actions import ActionError

log = logging.getLogger("kiosk.control")


class AlreadyRunning(Exception):
    """Another kiosk answers on this socket."""


class _Handler(socketserver.StreamRequestHandler):
    timeout = control.TIMEOUT_S

    def handle(self) -> None:
        try:
            line = self.rfile.readline(control.MAX_LINE)
            answer = self.server.answer(line)  # type: ignore[attr-defined]
        except (OSError, socket.timeout):
            return
        try:
            self.wfile.write(json.dumps(answer).encode() + b"\n")
        except OSError:
            pass


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, controller: Any) -> None:
        self.controller = controller
        super().__init__(path, _Handler)

    def answer(self, line: bytes) -> dict[str, Any]:
        try:
            message = json.loads(line.decode() or "null")
        except (ValueError, UnicodeDecodeError):
            return {"ok": False, "error": "The request was not one line of JSON."}
        if not isinstance(message, dict):
            return {"ok": False, "error": "The request was not a JSON object."}
        cmd = message.get("cmd")
        try:
            if cmd == "press":
                button = message.get("button")
                if not isinstance(button, str) or not button.strip():
                    return {"ok": False, "error": "Say which button to press."}
                self.controller.press(button, source="socket")
                return {"ok": True}
            if cmd == "status":
                return {"ok": True, "status": self.controller.status()}
            if cmd == "library_changed":
                self.controller.library_changed()
                return {"ok": True}
        except ActionError as exc:
            return {"ok": False, "error": str(exc)}
        except queue.Empty:
            return {"ok": False, "error": "The kiosk is busy and did not answer in time."}
        return {"ok": False, "error": f"Unknown command {cmd!r}: use press, status or library_changed."}


class ControlServer:
    def __init__(self, path: Path, controller: Any) -> None:
        self.path = Path(path)
        self._controller = controller
        self._server: _Server | None = None

    def start(self) -> None:
        if self.path.exists():
            try:
                control.request(self.path, {"cmd": "status"}, timeout=1.0)
            except control.KioskUnreachable:
                self.path.unlink()            # left behind by a kiosk that was killed
            else:
                raise AlreadyRunning(f"Another kiosk is already running on {self.path}.")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._server = _Server(str(self.path), self._controller)
        os.chmod(self.path, 0o660)
        threading.Thread(target=self._server.serve_forever, name="kiosk-control", daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
