"""Power cuts: the real kiosk and the real admin, killed with SIGKILL at random moments
while songs are being uploaded and played, 100 times, restarting after each cut the way
systemd does (the admin's startup check first). Afterwards the database passes
integrity_check, no media file is partial or without its row, and every upload the admin
acknowledged ("added", HTTP 200) is in the library with its whole file.

SIGKILL stops a process between any two instructions, as a power cut does. What it does
not do is throw away the kernel's unwritten page cache; that part of a real power cut is
covered by the fsync-before-rename order in content/media.py and SQLite's own journal.
"""
from __future__ import annotations

import hashlib
import http.client
import http.cookiejar
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from content import control, ingest, integrity, library, media, paths
from content import db as dbmod
from tests.audio import write_song

REPO = Path(__file__).resolve().parents[1]
CUTS = 100
WHOLE_EVERY = 5  # every fifth round lets its uploads finish before the cut
PASSWORD = "a long staff password"


def poll(predicate, timeout: float, what: str):
    """Poll until `predicate` returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except ProcessDied:
            raise
        except Exception as exc:  # noqa: BLE001 - not up yet; keep polling until the deadline
            last = exc
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s (last: {last!r})")


class ProcessDied(AssertionError):
    pass


@dataclass
class Service:
    """One of the two processes, started the way its systemd unit starts it."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        fh = open(self.log, "a")
        fh.write(f"{self._marker()}\n")
        fh.flush()
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=REPO, stdin=subprocess.DEVNULL,
                                     stdout=fh, stderr=subprocess.STDOUT)
        fh.close()
        self.starts += 1

    def _marker(self) -> str:
        return f"--- start {self.starts}"

    def logged_since_start(self) -> str:
        """What the running process has logged so far (the log keeps every start's lines)."""
        text = self.log.read_text()
        return text[text.rindex(f"--- start {self.starts - 1}\n"):]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise ProcessDied(f"the {self.name} exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def terminate(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class AdminClient:
    """A staff member's browser session, as plain HTTP (cookies + CSRF header)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as r:
            return r.read().decode()

    def login(self, email: str) -> None:
        page = self.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token}).encode()
        with self.opener.open(self.base + "/login", data=body, timeout=30) as r:
            assert r.status == 200
        page = self.get("/")
        self.csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    def upload(self, resident_id: int, path: Path) -> tuple[int, dict]:
        boundary = uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path.name}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        req = urllib.request.Request(
            f"{self.base}/residents/{resident_id}/upload", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "X-CSRFToken": self.csrf,
                     "X-Requested-With": "XMLHttpRequest", "Accept": "application/json"})
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, {}


@dataclass
class Tally:
    acknowledged: dict[str, str] = field(default_factory=dict)  # sha256 -> file name, for "added" answers
    cut_off: int = 0          # uploads whose connection the cut broke
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def upload_in_background(client: AdminClient, rid: int, path: Path, tally: Tally) -> threading.Thread:
    sha = hashlib.sha256(path.read_bytes()).hexdigest()

    def go():
        try:
            status, answer = client.upload(rid, path)
        except (OSError, ValueError, http.client.HTTPException):
            with tally.lock:
                tally.cut_off += 1
            return
        files = answer.get("files") or [{}]
        with tally.lock:
            if status == 200 and files[0].get("status") == "added":
                tally.acknowledged[sha] = path.name
            else:
                tally.refused.append(f"{path.name}: {status} {files[0].get('message')}")

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_100_power_cuts_during_uploads_and_playback_lose_nothing_acknowledged(tmp_path):
    started = time.monotonic()
    rng = random.Random(20240501)
    data = tmp_path / "data"
    (data / "tmp").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "EVERGREEN_CONFIG")}
    env.update(EVERGREEN_DATA=str(data), TMPDIR=str(data / "tmp"), PYTHONUNBUFFERED="1")

    # The library: a staff account, a resident and a few songs to play.
    made = subprocess.run([sys.executable, "-m", "content", "users", "add", "--role", "staff",
                           "--email", "staff@home.example", "--password-stdin"],
                          input=PASSWORD + "\n", env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    db = dbmod.connect(paths.db_path(data))
    mary = library.add_resident(db, "Mary", birth_year=1938)
    for i, freq in enumerate((330, 392, 494)):
        song = write_song(tmp_path / "seed" / f"seed{i}.ogg", freq, 12, tags={"title": f"Seed {i}", "artist": "Band"})
        assert ingest.ingest_file(db, paths.media_dir(data), song, resident_id=mary.id).status == "added"
    db.close()

    config = tmp_path / "kiosk.toml"
    config.write_text(f"""
resident = "Mary"
data_dir = "{data}"
shutdown_command = ["true"]
[audio]
output = "dummy"
[volume]
fade_in_s = 0.2
fade_out_s = 0.1
[session]
save_every_s = 0.2
[gpio]
enabled = "off"
[keyboard]
devices = "off"
""")
    # Port 0: the system picks a free port at each start; the admin's log says which.
    admin = Service("admin", [sys.executable, "-m", "content.web", "--host", "127.0.0.1", "--port", "0"],
                    env, tmp_path / "admin.log")
    kiosk = Service("kiosk", [sys.executable, "-m", "kiosk", "run", "--config", str(config)], env, tmp_path / "kiosk.log")
    sock = paths.socket_path(data)
    client = AdminClient("")
    tally = Tally()
    kills = {"admin": 0, "kiosk": 0, "both": 0}
    repairs: list[str] = []

    def startup_check() -> None:
        """What the admin unit's ExecStartPre runs (`python -m content check --repair`)."""
        conn = dbmod.connect(paths.db_path(data))
        try:
            report = integrity.check(conn, paths.media_dir(data), repair=True)
            assert not report.sqlite, report.sqlite
            repairs.extend(report.repaired)
        finally:
            conn.close()

    def admin_up() -> bool:
        admin.check_alive()
        found = re.search(r"Serving on http://127\.0\.0\.1:(\d+)", admin.logged_since_start())
        if not found:
            return False
        client.base = f"http://127.0.0.1:{found.group(1)}"
        with urllib.request.urlopen(f"{client.base}/login", timeout=2) as r:
            return r.status == 200

    def kiosk_status() -> dict:
        kiosk.check_alive()
        answer = control.request(sock, {"cmd": "status"}, timeout=2)
        return answer["status"] if answer.get("ok") else {}

    def bring_up() -> None:
        if not admin.alive():
            startup_check()
            admin.start()
        if not kiosk.alive():
            kiosk.start()
        poll(admin_up, 60, "the admin answering after a restart")
        poll(kiosk_status, 60, "the kiosk answering after a restart")

    n_upload = 0
    try:
        bring_up()
        client.login("staff@home.example")
        for cut in range(CUTS):
            bring_up()
            state = kiosk_status()
            if state.get("state") != "playing":
                control.press(sock, "play")
                poll(lambda: kiosk_status().get("state") == "playing", 30, "the kiosk playing after Play")
            elif rng.random() < 0.5:
                control.press(sock, "next")
            threads, shas = [], []
            for _ in range(rng.choice((1, 1, 2))):
                n_upload += 1
                kind = rng.choice((".flac", ".ogg", ".wav"))
                song = write_song(tmp_path / "up" / f"upload{n_upload:03d}{kind}", 200 + 7 * n_upload, 10.5,
                                  tags={"title": f"Upload {n_upload}", "artist": "Family"})
                threads.append(upload_in_background(client, mary.id, song, tally))
                shas.append(hashlib.sha256(song.read_bytes()).hexdigest())
            if cut % WHOLE_EVERY == 0:
                # This round's uploads finish before the cut: they must all be acknowledged.
                for t in threads:
                    t.join(timeout=90)
                    assert not t.is_alive(), "an upload never finished or failed"
                with tally.lock:
                    assert all(sha in tally.acknowledged for sha in shas), (tally.refused, tally.cut_off)
            # The cut itself: a random moment during the uploads and the playback.
            victim = rng.choice(("admin", "admin", "kiosk", "both"))
            threading.Event().wait(rng.uniform(0.0, 1.2))
            kills[victim] += 1
            if victim in ("admin", "both"):
                admin.kill()
            if victim in ("kiosk", "both"):
                kiosk.kill()
            for t in threads:
                t.join(timeout=90)
                assert not t.is_alive(), "an upload never finished or failed"
        # Power back one last time, as at boot: the startup check, then both services.
        kiosk.kill()
        admin.kill()
        bring_up()
        final = kiosk_status()
    finally:
        kiosk.terminate()
        admin.terminate()
    took = time.monotonic() - started

    # The database is whole.
    conn = sqlite3.connect(str(paths.db_path(data)))
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    songs = {sha: (sid, ext) for sid, sha, ext in conn.execute("SELECT id, sha256, ext FROM songs")}
    linked = {sid for (sid,) in conn.execute("SELECT song_id FROM resident_songs WHERE resident_id = ?", [mary.id])}
    plays = conn.execute("SELECT COUNT(*) FROM plays").fetchone()[0]
    conn.close()

    # No media file is partial or orphaned: every file has its row and its full content,
    # every row has its file, and nothing is left half-written.
    media_dir = paths.media_dir(data)
    stored = {p.name: p for p in media.stored_files(media_dir)}
    assert set(stored) == {f"{sha}.{ext}" for sha, (_sid, ext) in songs.items()}
    for name, p in stored.items():
        assert hashlib.sha256(p.read_bytes()).hexdigest() == name.split(".")[0], f"{name} is not whole"
    assert media.scratch_files(media_dir) == []
    spool = data / "upload-tmp"
    assert not spool.exists() or list(spool.iterdir()) == []  # the admin clears its spool at start
    check = subprocess.run([sys.executable, "-m", "content", "check"], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "The library is whole." in check.stdout, check.stdout + check.stderr

    # Every acknowledged upload is there, with its file, for Mary.
    lost = [name for sha, name in tally.acknowledged.items() if sha not in songs or songs[sha][0] not in linked]
    assert lost == [], f"acknowledged uploads missing after the cuts: {lost}"
    assert len(tally.acknowledged) >= CUTS // WHOLE_EVERY  # the whole rounds' uploads, at least
    assert tally.refused == [], tally.refused
    assert plays > 0
    assert final.get("state") != "playing"  # after a power cut the kiosk never starts by itself

    print(f"\npower-cut soak: {CUTS} cuts (admin {kills['admin']}, kiosk {kills['kiosk']}, both {kills['both']}) "
          f"in {took:.0f} s; uploads: {n_upload} sent, {len(tally.acknowledged)} acknowledged and all present, "
          f"{tally.cut_off} cut off mid-request, {len(songs) - 3 - len(tally.acknowledged)} stored but unacknowledged; "
          f"{plays} plays recorded; startup check repaired {len(repairs)} leftovers")
