"""The sync agent killed (SIGKILL, a power cut for it) 20 times while it downloads songs
through a slow link, eight of them once a download is seen growing and the rest at random
moments: media/ never holds half a file or a file whose bytes
do not match its name, `content check` finds the library whole every time, and in the end
every song arrives."""
from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from content import cli
from tests.hubkit import Box, Hub, wait_for

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
RATE = 2 * 1024 * 1024       # bytes a second through the slow link


class SlowLink:
    """A TCP relay on 127.0.0.1 that passes the hub's answers on at RATE, so a download
    takes long enough to be cut in the middle."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pipe, args=(client, up, 0), daemon=True).start()
            threading.Thread(target=self._pipe, args=(up, client, RATE), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, rate: int) -> None:
        try:
            while data := src.recv(32 * 1024):
                dst.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        self.closed = True
        self.sock.close()


def _media_is_whole(media: Path) -> list[str]:
    bad = []
    for p in (media.iterdir() if media.exists() else []):
        if p.is_file() and not p.name.startswith("."):
            if hashlib.sha256(p.read_bytes()).hexdigest() != p.name.split(".")[0]:
                bad.append(p.name)
    return bad


def _partial_sizes(downloads: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in downloads.glob("*.part")} if downloads.exists() else {}


def _growing(before: dict[str, int], now: dict[str, int]) -> bool:
    """A download is under way: a partial file is new or longer than when the agent started."""
    return any(size > before.get(name, -1) for name, size in now.items())


def _check(box: Box) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        status = cli.main(["check", "--db", str(box.data / "library.db")])
    return status, out.getvalue()


def test_sigkill_during_downloads_never_leaves_half_a_file(tmp_path):
    hub = Hub(tmp_path / "hub").start()
    link = SlowLink(hub.port)
    box = Box(tmp_path / "box")
    rng = random.Random(11)
    try:
        home = hub.home("Rose House")
        mary = hub.resident("Mary", home)
        for i in range(6):
            hub.song(mary, 300 + 60 * i, f"Song {i}", seconds=12)     # about 2 MB each
        _, code = hub.box(home, "Lounge", [mary])
        assert box.join(f"http://127.0.0.1:{link.port}", code)[0] == 0
        env = {**os.environ, "PYTHONPATH": str(ROOT), "EVERGREEN_DATA": str(box.data)}
        cuts_mid_download = 0
        downloads = box.data / "sync" / "downloads"
        for cut in range(20):
            before = _partial_sizes(downloads)
            proc = subprocess.Popen([sys.executable, "-m", "content.sync", "--wait", "5"], cwd=ROOT, env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if cut < 8:
                wait_for(lambda: _growing(before, _partial_sizes(downloads)), 60, "a download under way")
                time.sleep(rng.uniform(0.0, 0.3))
            else:
                time.sleep(rng.uniform(0.3, 1.5))
            cuts_mid_download += _growing(before, _partial_sizes(downloads))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            assert _media_is_whole(box.media) == []
            status, words = _check(box)
            assert status == 0, words
        assert cuts_mid_download >= 5, "the cuts should fall in the middle of downloads"
        proc = subprocess.Popen([sys.executable, "-m", "content.sync", "--wait", "5"], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: len(box.songs(mary.id)) == 6, 60, "every song arrived in the end")
        finally:
            proc.terminate()
            proc.wait(10)
        assert _media_is_whole(box.media) == [] and _check(box)[0] == 0
    finally:
        link.close()
        box.close()
        hub.close()
