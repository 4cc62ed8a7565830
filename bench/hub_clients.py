"""The hub benchmark's simulated clients: a music box speaking the sync protocol over HTTP,
and a family browsing and uploading from a phone."""
from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from benchkit import FormClient

PASSWORD = "bench-password-1"
REPORT_EVERY_S = 180.0     # a box reports a finished play about every three minutes
WAIT_S = 240


class SimBox:
    """A box speaking the real protocol, without a kiosk or media files."""

    def __init__(self, port: int, box_id: int, credential: str, resident_id: int, stop: threading.Event,
                 stats: dict, rng: random.Random) -> None:
        self.port, self.box_id, self.resident_id = port, box_id, resident_id
        self.auth = {"Authorization": f"Bearer {credential}"}
        self.stop, self.stats, self.rng = stop, stats, rng
        self.etag = ""
        self.flags: set[int] = set()
        self.flag_seen = threading.Condition()
        self.plays = 0

    def _call(self, conn, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
              timed: bool = True):
        t0 = time.perf_counter()
        conn.request(method, path, body=body, headers={**self.auth, **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
        if timed:
            self.stats["sync"].append((time.perf_counter() - t0) * 1000)
        return resp, data

    def fetch_state(self, conn) -> None:
        resp, data = self._call(conn, "GET", "/api/box/state", headers={"If-None-Match": self.etag} if self.etag else {})
        if resp.status == 200:
            doc = json.loads(data)
            self.etag = resp.getheader("ETag")
            flags = {e["song_id"] for e in doc["resident_songs"] if e["never_play"]}
            with self.flag_seen:
                self.flags = flags
                self.flag_seen.notify_all()

    def run_waiter(self) -> None:
        while not self.stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT_S + 30)
            try:
                self.fetch_state(conn)
                while not self.stop.is_set():
                    resp, data = self._call(conn, "GET", f"/api/box/wait?etag={self.etag}&timeout={WAIT_S}",
                                            timed=False)
                    news = json.loads(data)
                    if news.get("etag") != self.etag:
                        self.fetch_state(conn)
                    if news.get("retry"):
                        self.stop.wait(news["retry"])
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if not self.stop.is_set():        # not the hub going away at the end
                    self.stats["errors"].append(f"wait: {type(exc).__name__}")
                conn.close()
                self.stop.wait(2)

    def run_sender(self) -> None:
        while not self.stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self._send(conn)
            except (OSError, http.client.HTTPException) as exc:
                if not self.stop.is_set():
                    self.stats["errors"].append(f"report: {type(exc).__name__}")
                conn.close()

    def _send(self, conn) -> None:
        while not self.stop.wait(self.rng.expovariate(1 / REPORT_EVERY_S)):
            self.plays += 1
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            item = {"uid": f"bench-{self.box_id}/play/{self.plays}", "kind": "play",
                    "payload": {"resident_id": self.resident_id, "song_id": None, "started_at": now,
                                "ended_at": now, "seconds_heard": 170.0, "ended_how": "finished"}}
            body = json.dumps({"items": [item], "playing": {"state": "playing", "resident_id": self.resident_id,
                                                             "song": {"title": f"Song {self.plays}"}}}).encode()
            self._call(conn, "POST", "/api/box/report", body, {"Content-Type": "application/json"})


class Family(FormClient):
    def __init__(self, port: int, email: str, resident_id: int, song_ids: list[int], upload: Path,
                 stop: threading.Event, stats: dict, rng: random.Random) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.email, self.rid, self.song_ids, self.upload_file = email, resident_id, song_ids, upload
        self.stop, self.stats, self.rng = stop, stats, rng
        self.cookie = self.token = ""

    def get(self, path: str, timed: bool = True) -> int:
        t0 = time.perf_counter()
        self.conn.request("GET", path, headers={"Cookie": self.cookie})
        resp = self.conn.getresponse()
        body = resp.read()
        if timed:
            self.stats["page"].append((time.perf_counter() - t0) * 1000)
        self._remember(resp, body)
        return resp.status

    def post(self, path: str, fields: dict) -> int:
        self.conn.request("POST", path, body=urlencode({**fields, "csrf_token": self.token}),
                          headers={"Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"})
        resp = self.conn.getresponse()
        body = resp.read()
        self._remember(resp, body)
        return resp.status

    def upload(self) -> None:
        boundary = uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{uuid.uuid4().hex}.wav\""
                f"\r\nContent-Type: audio/wav\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        data = self.upload_file.read_bytes()
        t0 = time.perf_counter()
        self.conn.request("POST", f"/residents/{self.rid}/upload", body=head + data + tail, headers={
            "Cookie": self.cookie, "X-CSRFToken": self.token, "Accept": "application/json",
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        resp = self.conn.getresponse()
        resp.read()
        self.stats["upload"].append((time.perf_counter() - t0) * 1000)

    def login(self) -> None:
        self.get("/login", timed=False)
        assert self.post("/login", {"email": self.email, "password": PASSWORD}) == 302

    def run(self) -> None:
        while not self.stop.wait(self.rng.uniform(5.0, 15.0)):   # a person reading a page
            self.get(f"/residents/{self.rid}")
            self.get("/")
            if self.rng.random() < 0.05:
                self.upload()
