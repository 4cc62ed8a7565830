"""What the benchmarks share: a free port on 127.0.0.1, waiting for a server to answer there,
a process's memory, and a browser's session cookie and CSRF token."""
from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def answers(port: int, proc: subprocess.Popen, seconds: float, poll_s: float) -> bool:
    """True once a server answers on 127.0.0.1:`port`; False if `proc` ended or `seconds` passed."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                return False
            time.sleep(poll_s)


class FormClient:
    """A browser's memory between pages: the session cookie and the last page's CSRF token."""

    cookie = ""
    token = ""

    def _remember(self, resp, body: bytes) -> None:
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie":
                self.cookie = value.split(";", 1)[0]
        m = re.search(rb'name="csrf-token" content="([^"]+)"', body)
        if m:
            self.token = m.group(1).decode()
