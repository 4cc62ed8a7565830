"""The real server (waitress on 127.0.0.1) facing strangers: a large body from someone who
may not send it costs at most about 1 MB before the answer, however much it declares, and
a crowd of idle connections does not lock everyone else out."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.live import LiveBrowser, serve
from tests.test_web_fixtures import FAMILY_PW, song_file, world  # noqa: F401

ABOUT_A_MEGABYTE = 1024 * 1024 + 64 * 1024


class SpoolMeter:
    """The largest total size, sampled every few milliseconds, of the files this process has
    open that are unlinked temporary files or in the admin's upload folder: what a request
    body costs on disk while it is being taken in."""

    def __init__(self, upload_tmp: Path) -> None:
        self.upload_tmp = str(upload_tmp)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
                if target.endswith("(deleted)") or target.startswith(self.upload_tmp):
                    st = os.stat(f"/proc/self/fd/{fd}")
                    if os.path.stat.S_ISREG(st.st_mode):
                        total += st.st_size
            except OSError:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(0.003)

    def __enter__(self) -> "SpoolMeter":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def send_big(base: str, path: str, size: int, cookie: str = "") -> bytes:
    """POST a body of `size` bytes (declared up front), as fast as the server takes it;
    return whatever the server answered."""
    host, port = base.removeprefix("http://").split(":")
    head = (f"POST {path} HTTP/1.1\r\nHost: kiosk\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {size}\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n").encode()
    answer = b""
    with socket.create_connection((host, int(port)), timeout=20) as s:
        s.sendall(head)
        chunk = b"x" * 65536
        sent = 0
        try:
            while sent < size:
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass   # the server answered and closed: exactly what should happen
        try:
            while data := s.recv(65536):
                answer += data
        except OSError:
            pass
    return answer


def cookie_of(browser: LiveBrowser) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in browser.jar)


@pytest.mark.parametrize("who", ["anonymous", "another family"])
def test_a_large_upload_from_someone_not_allowed_costs_at_most_about_a_megabyte(world, who):
    world.app.config["MAX_CONTENT_LENGTH"] = 200 * 1024 * 1024
    world.app.config["MAX_UPLOAD_BYTES"] = 200 * 1024 * 1024
    with serve(world.app) as base:
        cookie = ""
        if who == "another family":
            ben = LiveBrowser(base)
            ben.login(world.bob_family.email, FAMILY_PW)
            cookie = cookie_of(ben)
        with SpoolMeter(world.data / "upload-tmp") as meter:
            answer = send_big(base, f"/residents/{world.mary.id}/upload", 20 * 1024 * 1024, cookie)
        assert meter.peak <= ABOUT_A_MEGABYTE, f"{meter.peak / 1e6:.1f} MB taken in"
        if answer:
            expected = b"401" if who == "anonymous" else b"404"
            assert answer.startswith(b"HTTP/1.1 " + expected), answer[:200]
            assert b"Please log in" in answer or b"not shared with your account" in answer
        assert not any((world.data / "upload-tmp").iterdir())
        assert not [p for p in world.media.iterdir() if p.is_file() and not p.name.startswith(".")]


def test_a_family_member_still_uploads_a_song_larger_than_the_unchecked_limit(world, tmp_path):
    body = song_file(tmp_path, "long.wav", 440, seconds=15.0, title="Long one", artist="Band").read_bytes()
    assert len(body) > ABOUT_A_MEGABYTE
    from tests.test_web_security import _live_upload
    with serve(world.app) as base:
        anne = LiveBrowser(base)
        anne.login(world.mary_family.email, FAMILY_PW)
        assert _live_upload(anne, world.mary.id, "long.wav", body)["status"] == "added"


def test_idle_connections_do_not_lock_everyone_else_out(world):
    idle = []
    with serve(world.app) as base:
        host, port = base.removeprefix("http://").split(":")
        try:
            for i in range(250):      # well past waitress's default limit of 100
                s = socket.create_connection((host, int(port)), timeout=10)
                if i % 2:
                    s.sendall(b"GET /login HTTP/1.1\r\nHost: kiosk\r\n")   # headers begun, never finished
                idle.append(s)
            started = time.monotonic()
            answer = LiveBrowser(base).get("/login", timeout=15)
            assert answer.status == 200 and time.monotonic() - started < 10
        finally:
            for s in idle:
                s.close()
