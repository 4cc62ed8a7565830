"""The music never stops because the play history cannot be written: the real kiosk process
keeps playing, from one song to the next, while its library's disk is full (a small real
tmpfs, filled up) or its files may not grow (a file-size limit, which needs no root)."""
from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from content import control
from content import db as dbmod
from content import library
from content.ingest import ingest_file
from tests.audio import write_song
from tests.test_kiosk_process import Notifications, ROOT
from tests.test_kiosk_support import wait_for


def kiosk_config(path: Path, data: Path) -> Path:
    path.write_text(f"""
data_dir = "{data}"
shutdown_command = []
[audio]
output = "dummy"
[volume]
fade_in_s = 0.2
fade_out_s = 0.2
[session]
save_every_s = 0.2
[gpio]
enabled = "off"
[keyboard]
devices = "off"
""")
    return path


def fill(folder: Path) -> Path:
    """Write zeros until the disk says it is full."""
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler


@pytest.mark.parametrize("how", ["full tmpfs", "file size limit"])
def test_the_kiosk_keeps_playing_when_its_history_cannot_be_written(tmp_path, how):
    if how == "full tmpfs" and os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs; the 'file size limit' case runs as any user")
    data = tmp_path / "data"
    data.mkdir()
    if how == "full tmpfs":
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(data)], check=True)
    proc = None
    try:
        db = dbmod.connect(data / "library.db")
        mary = library.add_resident(db, "Mary", birth_year=1938)
        for i, freq in enumerate((330, 440, 550)):
            song = write_song(tmp_path / "src" / f"s{i}.ogg", freq, 20, tags={"title": f"Song {i}"})
            assert ingest_file(db, data / "media", song, resident_id=mary.id, min_seconds=1).status == "added"
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")   # the history's next write must take new space
        db.close()
        cfg = kiosk_config(tmp_path / "kiosk.toml", data)
        notify = Notifications(tmp_path / "notify.sock")
        env = {**os.environ, "NOTIFY_SOCKET": str(notify.path), "PYTHONPATH": str(ROOT)}
        limit = None
        if how == "file size limit":
            def limit():
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (48 * 1024, 48 * 1024))   # the WAL soon hits it
        proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(cfg)], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                preexec_fn=limit)
        notify.wait("READY=1")
        sock = data / "kiosk.sock"
        assert control.press(sock, "play")["ok"]
        if how == "full tmpfs":
            filler = fill(data)
        heard: list[int] = []
        deadline = time.monotonic() + 90
        while len(heard) < 4:                     # song after song starts and plays
            assert time.monotonic() < deadline, f"only heard {heard}"
            assert proc.poll() is None, proc.stdout.read().decode()
            st = control.status(sock)["status"]
            if st["state"] == "playing" and st["song"] and st["position"] > 0.5 \
                    and (not heard or st["song"]["id"] != heard[-1]):
                heard.append(st["song"]["id"])
                assert control.press(sock, "next")["ok"]
            time.sleep(0.05)
        notify.wait("WATCHDOG=1")
        assert proc.poll() is None
        if how == "full tmpfs":
            filler.unlink()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        log = proc.stdout.read().decode()
        assert "Could not write the play history" in log and "Traceback" not in log, log
        assert "music goes on" in log
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if how == "full tmpfs":
            subprocess.run(["umount", "-l", str(data)], check=False)
