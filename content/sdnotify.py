"""systemd's readiness and watchdog notifications, without a dependency.

When systemd starts a service with Type=notify / WatchdogSec it sets NOTIFY_SOCKET. The
kiosk sends READY=1 once armed and WATCHDOG=1 from its controller loop, the box's sync agent
from its own loops, so a hung service (not just a dead process) gets restarted. It lives in
`content` so that both can use it (`content` never imports `kiosk`).
"""
from __future__ import annotations

import os
import socket


class SdNotify:
    def __init__(self, address: str | None = None) -> None:
        self._address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def send(self, message: str) -> bool:
        if not self._address:
            return False
        address = self._address
        if address.startswith("@"):
            address = "\0" + address[1:]          # abstract namespace socket
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                # Never block the controller: a reader that stopped reading (its queue of
                # datagrams is short) must not stop the music.
                s.setblocking(False)
                s.sendto(message.encode(), address)
            return True
        except OSError:
            return False

    def ready(self) -> bool:
        return self.send("READY=1")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")
