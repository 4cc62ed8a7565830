"""Admin figures: a 200 MB upload through the real server (throughput, and how much the
admin process's memory grows), and the resident page with 5,000 songs (render times).

Runs `python -m content.web` as a subprocess on a temporary library and reads its memory
from /proc. Prints figures; targets: RSS growth <= 20 MB, resident page p95 <= 150 ms.
"""
from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content import accounts, db as dbmod, library  # noqa: E402

from benchkit import FormClient, answers, free_port, memory  # noqa: E402

PASSWORD = "bench-password-1"
UPLOAD_MB = 200
PAGE_SONGS = 5000
PAGE_RUNS = 60


def write_long_wav(path: Path, megabytes: int) -> None:
    """A real tone, written in blocks so this script's own memory stays small."""
    rate, block = 44100, 44100 * 10
    frames_needed = megabytes * 1024 * 1024 // 4
    t = np.arange(block) / rate
    chunk = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    stereo = np.column_stack([chunk, chunk])
    with sf.SoundFile(str(path), "w", samplerate=rate, channels=2, subtype="PCM_16", format="WAV") as f:
        written = 0
        while written < frames_needed:
            n = min(block, frames_needed - written)
            f.write(stereo[:n])
            written += n


class Session(FormClient):
    """Just enough of a browser: one keep-alive connection, a cookie, the CSRF token."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.cookie = ""
        self.token = ""

    def get(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path, headers={"Cookie": self.cookie})
        resp = self.conn.getresponse()
        body = resp.read()
        self._remember(resp, body)
        return resp.status, body

    def post_form(self, path: str, fields: dict[str, str]) -> int:
        from urllib.parse import urlencode
        body = urlencode({**fields, "csrf_token": self.token})
        self.conn.request("POST", path, body=body, headers={
            "Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"})
        resp = self.conn.getresponse()
        data = resp.read()
        self._remember(resp, data)
        return resp.status

    def upload(self, path: str, file: Path) -> tuple[int, bytes]:
        """Stream one file as multipart/form-data, as the page's script does."""
        boundary = uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file.name}\"\r\n"
                f"Content-Type: audio/wav\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        length = len(head) + file.stat().st_size + len(tail)
        self.conn.putrequest("POST", path)
        for k, v in {"Cookie": self.cookie, "X-CSRFToken": self.token, "Accept": "application/json",
                     "Content-Type": f"multipart/form-data; boundary={boundary}",
                     "Content-Length": str(length)}.items():
            self.conn.putheader(k, v)
        self.conn.endheaders()
        self.conn.send(head)
        with open(file, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                self.conn.send(chunk)
        self.conn.send(tail)
        resp = self.conn.getresponse()
        return resp.status, resp.read()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-admin-") as tmp:
        data = Path(tmp) / "data"
        db = dbmod.connect(data / "library.db")
        accounts.create_user(db, "staff@bench.example", PASSWORD, "staff")
        mary = library.add_resident(db, "Mary", birth_year=1938)
        busy = library.add_resident(db, "Many Songs", birth_year=1935)
        port = free_port()
        env = {**os.environ, "EVERGREEN_DATA": str(data), "TMPDIR": tmp}
        log_path = Path(tmp) / "admin.log"
        log_file = open(log_path, "wb")
        proc = subprocess.Popen([sys.executable, "-m", "content.web", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=log_file, stderr=subprocess.STDOUT)
        try:
            if not answers(port, proc, 30, 0.05):
                print("the admin did not start")
                return 1
            # The admin checks every song's year at start (5,000 here): let that finish, so the
            # memory measured below is the upload's and not the start-up's.
            while b"Song years checked" not in log_path.read_bytes():
                if time.monotonic() > deadline + 60 or proc.poll() is not None:
                    print("the admin did not finish starting")
                    return 1
                time.sleep(0.1)
            s = Session(port)
            s.get("/login")
            assert s.post_form("/login", {"email": "staff@bench.example", "password": PASSWORD}) == 302
            s.get(f"/residents/{mary.id}/upload")

            # Warm up with a small real song, so that what is measured is the big file.
            small = Path(tmp) / "small.wav"
            write_long_wav(small, 3)
            status, _ = s.upload(f"/residents/{mary.id}/upload", small)
            assert status == 200, status
            s.get(f"/residents/{busy.id}")
            start_peak = memory(proc.pid)["VmHWM"]
            # VmHWM is a lifetime peak: reset it, so the peak read below is the upload's own.
            Path(f"/proc/{proc.pid}/clear_refs").write_text("5")
            before = memory(proc.pid)

            big = Path(tmp) / "long tone.wav"
            write_long_wav(big, UPLOAD_MB)
            size = big.stat().st_size
            t0 = time.perf_counter()
            status, body = s.upload(f"/residents/{mary.id}/upload", big)
            took = time.perf_counter() - t0
            after = memory(proc.pid)
            assert status == 200 and b'"status":"added"' in body.replace(b" ", b""), body[:300]
            growth = (after["VmHWM"] - before["VmRSS"]) / 1024
            print(f"upload {size / 2**20:.0f} MB (upload, store and full decode check): {took:.1f} s, "
                  f"{size / 2**20 / took:.0f} MB/s")
            print(f"admin peak while starting (checking 5,000 songs' years) {start_peak / 1024:.1f} MB")
            print(f"admin RSS before {before['VmRSS'] / 1024:.1f} MB, peak during {after['VmHWM'] / 1024:.1f} MB, "
                  f"after {after['VmRSS'] / 1024:.1f} MB: peak growth {growth:.1f} MB (target <= 20 MB)")
            big.unlink()

            # The resident page with 5,000 songs and 20,000 plays.
            rows = [{"sha256": f"{i:064x}", "ext": "mp3", "format": "mp3", "title": f"Song number {i}",
                     "artist": f"Band {i % 300}", "duration": 180, "size_bytes": 1} for i in range(PAGE_SONGS)]
            with dbmod.write(db):
                db["songs"].insert_all(rows)
                db.execute("INSERT INTO resident_songs (resident_id, song_id, title, artist, year, year_source, "
                           "year_confidence) SELECT ?, id, title, artist, 1930 + id % 50, 'catalogue', 90.0 "
                           "FROM songs WHERE sha256 LIKE '0000%'", [busy.id])
                db.execute(
                    "INSERT INTO plays (resident_id, song_id, started_at, seconds_heard, ended_how) "
                    "SELECT ?, id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (id % 90) || ' days'), 120, 'finished' "
                    "FROM songs, (SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4) "
                    "WHERE sha256 LIKE '0000%'", [busy.id])
            n = db.execute("SELECT COUNT(*) FROM resident_songs WHERE resident_id = ?", [busy.id]).fetchone()[0]
            for label, path in (("first page", f"/residents/{busy.id}"),
                                ("page 30", f"/residents/{busy.id}?page=30"),
                                ("search", f"/residents/{busy.id}?q=Band+42")):
                times = []
                for _ in range(PAGE_RUNS):
                    t0 = time.perf_counter()
                    status, body = s.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert status == 200
                times.sort()
                p95 = times[int(0.95 * len(times)) - 1]
                print(f"resident page, {n} songs, {label}: median {statistics.median(times):.1f} ms, "
                      f"p95 {p95:.1f} ms (target <= 150 ms), {len(body) // 1024} KB")
            # Right after a change (a favourite tapped), when the page works everything out afresh.
            song_id = db.execute("SELECT song_id FROM resident_songs WHERE resident_id = ? LIMIT 1", [busy.id]).fetchone()[0]
            def page_after(change, what: str) -> None:
                times = []
                for i in range(20):
                    assert s.post_form(*change(i)) == 302
                    t0 = time.perf_counter()
                    s.get(f"/residents/{busy.id}")
                    times.append((time.perf_counter() - t0) * 1000)
                times.sort()
                print(f"resident page, {n} songs, first page just after {what}: "
                      f"median {statistics.median(times):.1f} ms, p95 {times[int(0.95 * len(times)) - 1]:.1f} ms")

            page_after(lambda i: (f"/residents/{busy.id}/songs/{song_id}/favourite",
                                  {"favourite": str(i % 2), "back": "list"}), "a favourite is tapped")
            # After a title changes, the teenage-years suggestions are worked out afresh.
            page_after(lambda i: (f"/residents/{busy.id}/songs/{song_id}", {"title": f"Renamed {i}", "artist": "Band"}),
                       "a title changed")
        finally:
            proc.terminate()
            proc.wait(10)
            db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
