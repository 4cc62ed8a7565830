"""The real kiosk as a process (`python -m kiosk run`, silent audio) for the admin's tests,
and waiting on what it says through its control socket."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from content import control
from content.paths import socket_path

ROOT = Path(__file__).resolve().parent.parent


def poll(check, what: str, deadline_s: float = 20.0):
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}")


def kiosk_status(sock: Path) -> dict | None:
    try:
        return control.status(sock)["status"]
    except control.KioskUnreachable:
        return None


@contextlib.contextmanager
def run_kiosk(data: Path, resident: str, work: Path) -> Iterator[Path]:
    """The real kiosk (`python -m kiosk run`) for one resident, with silent audio; yields
    its control socket."""
    config = work / "kiosk.toml"
    config.write_text(
        f'resident = "{resident}"\ndata_dir = "{data}"\nshutdown_command = ["true"]\n'
        '[audio]\noutput = "dummy"\n[gpio]\nenabled = "off"\n[keyboard]\ndevices = "off"\n'
        '[volume]\nfade_in_s = 0.1\n')
    log = open(work / "kiosk.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(config)], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "EVERGREEN_DATA": str(data)})
    sock = socket_path(data)
    try:
        poll(lambda: proc.poll() is not None or kiosk_status(sock), "the kiosk to answer")
        assert proc.poll() is None, (work / "kiosk.log").read_text()
        yield sock
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
