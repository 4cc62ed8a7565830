"""`python -m kiosk` as the service runs it: a real process, killed and restarted.

A power cut is SIGKILL mid-song. After the restart the kiosk must stay quiet until Play,
then resume the same song near where it was: the song's pitch rises every second, so the
audio VLC writes (afile) says where it resumed.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from content import control
from content.ingest import ingest_file
from tests.test_kiosk_support import dominant, read_wav_so_far, stepped_song, wait_for

ROOT = Path(__file__).resolve().parent.parent
BASE, STEP = 300.0, 50.0


def write_config(path: Path, data: Path, out: Path, shutdown: list[str] = ()) -> Path:
    path.write_text(f"""
data_dir = "{data}"
shutdown_command = {json.dumps(list(shutdown))}
[audio]
output = "afile"
file = "{out}"
[volume]
fade_in_s = 0.2
fade_out_s = 0.2
[session]
save_every_s = 0.5
resume_rewind_s = 1.0
[gpio]
enabled = "off"
[keyboard]
devices = "off"
""")
    return path


class Notifications:
    """A stand-in for systemd's notify socket: a real datagram socket we read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.seen: list[str] = []

    def wait(self, message: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while message not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {message} from the kiosk; got {self.seen}")
            try:
                self.seen.append(self.sock.recv(256).decode())
            except socket.timeout:
                pass


def start(cfg: Path, notify: Notifications) -> subprocess.Popen:
    env = {**os.environ, "NOTIFY_SOCKET": str(notify.path), "PYTHONPATH": str(ROOT)}
    notify.seen.clear()
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(cfg)], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    notify.wait("READY=1")
    return proc


def cli(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", *args, "--config", str(cfg)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=30)


def sounding(samples):
    """The samples from the first sound on (the output starts on a moment of silence)."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 30)
    return samples[loud[0]:] if len(loud) else samples[:0]


def test_power_cut_then_quiet_until_play_then_resume(lib, mary, tmp_path):
    song = stepped_song(tmp_path / "rising.wav", 30)
    result = ingest_file(lib.db, lib.media, song, resident_id=mary.id, min_seconds=1)
    assert result.status == "added", result.reason
    out = tmp_path / "heard.wav"
    cfg = write_config(tmp_path / "kiosk.toml", lib.data, out)
    notify = Notifications(tmp_path / "notify.sock")
    sock = lib.data / "kiosk.sock"

    proc = start(cfg, notify)
    try:
        assert cli(cfg, "press", "play").returncode == 0
        wait_for(lambda: control.status(sock)["status"]["position"] >= 7.0, timeout=20, what="7 s of the song")
        notify.wait("WATCHDOG=1")
        position = control.status(sock)["status"]["position"]
        wait_for(lambda: json.loads(lib.db.execute(
            "SELECT value FROM kiosk_state WHERE key = 'resume'").fetchone()[0])["position"] >= position - 0.6,
            what="the resume point to be saved")
        proc.kill()                                              # the power cut
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    size_after_cut = out.stat().st_size if out.exists() else 0

    proc = start(cfg, notify)
    try:
        st = control.status(sock)["status"]
        assert st["state"] == "stopped" and st["song"] is None, "quiet after a power cut"
        ended = lib.db.execute("SELECT ended_how FROM plays").fetchall()
        assert ended == [("power_cut",)]
        assert (out.stat().st_size if out.exists() else 0) == size_after_cut, "no sound before Play"
        out.unlink(missing_ok=True)                 # what the output writes from now on, not before the cut

        assert cli(cfg, "press", "play").returncode == 0
        shown = json.loads(cli(cfg, "status").stdout)
        assert shown["resident"] == "Mary" and shown["song"]["id"] == result.song_id
        wait_for(lambda: out.exists() and len(sounding(read_wav_so_far(out))) > 44100, what="a second of resumed audio")
        samples = sounding(read_wav_so_far(out))
        heard_at = (dominant(samples[int(0.4 * 44100):int(0.6 * 44100)]) - BASE) / STEP
        assert position - 5 <= heard_at <= position + 1, (position, heard_at)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    rows = lib.db.execute("SELECT ended_how FROM plays ORDER BY id").fetchall()
    assert rows == [("power_cut",), ("stopped",)]
    assert not sock.exists(), "the socket is removed on a clean exit"


def test_cli_says_plainly_when_the_kiosk_is_not_running(lib, tmp_path):
    cfg = write_config(tmp_path / "kiosk.toml", lib.data, tmp_path / "o.wav")
    done = cli(cfg, "status")
    assert done.returncode == 1 and "not running" in done.stderr


def test_cli_refuses_a_broken_config_in_plain_words(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[volume]\ncap = "loud"\n')
    done = cli(cfg, "run")
    assert done.returncode == 2 and "cap should be a number" in done.stderr


def test_the_control_socket_cannot_power_the_box_off(lib, mary, tmp_path):
    """Any process of the service user can reach the socket; powering off takes a hold on the
    box's own staff button, so a press sent through the socket is refused in plain words."""
    marker = tmp_path / "powered-off"
    cfg = write_config(tmp_path / "kiosk.toml", lib.data, tmp_path / "o.wav", shutdown=["touch", str(marker)])
    notify = Notifications(tmp_path / "notify.sock")
    sock = lib.data / "kiosk.sock"
    proc = start(cfg, notify)
    try:
        for button in ("shutdown", "SHUTDOWN", " shutdown ", "staff"):
            done = cli(cfg, "press", button)
            assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
        assert "holding the staff button" in cli(cfg, "press", "shutdown").stderr
        answer = control.request(sock, {"cmd": "press", "button": "shutdown"})
        assert answer["ok"] is False and "on the box itself" in answer["error"]
        assert control.status(sock)["ok"] and proc.poll() is None      # still running
        assert not marker.exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not marker.exists()
