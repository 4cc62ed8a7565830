"""The sync agent: the box's own service in hub mode (`python -m content.sync`).

Three loops, each with its own connection to the hub and to the library:
  waiter    holds one request open at the hub (/api/box/wait) that answers as soon as this
            box's state has a new version or a staff member pressed a button for it; then
            fetches the state (a conditional GET) and applies it at once, so a red flag never
            waits behind a download. Panel buttons go to the kiosk through its control socket.
  fetcher   downloads the files the applied state still lacks, by hash, and applies the
            state again after each one, so each new song is playable as soon as it is whole;
            then removes files unused for the grace period.
  sender    every few seconds puts finished plays in the outbox and sends the outbox, with
            what the kiosk is doing whenever that changes (not its position), and the
            results of panel buttons.
Nothing here is needed for the music: with the hub gone every loop just tries again later,
backing off, and the kiosk plays on from the library.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import sqlite_utils

from content import control
from content.db import LibraryError, connect
from content.sdnotify import SdNotify
from content.sync import apply, files, outbox
from content.sync.client import HubClient, HubRefused, HubUnreachable
from content.sync.config import BoxLink

log = logging.getLogger("evergreen.sync")

WAIT_S = 240
SEND_EVERY_S = 2.0
BACKOFF_S = (1, 2, 5, 10, 30, 60)
ETAG_KEY = "etag"
BOX_UID_KEY = "box_uid"
STATUS_FIELDS = ("state", "resident_id", "quiet_reason", "volume")
SONG_FIELDS = ("id", "title", "artist", "year")


@dataclass
class AgentSettings:
    data: Path
    db_path: Path
    media_dir: Path
    socket_path: Path
    link: BoxLink
    wait_s: int = WAIT_S
    send_every_s: float = SEND_EVERY_S
    grace_days: float = files.GRACE_DAYS
    backoff_s: tuple[float, ...] = BACKOFF_S


@dataclass
class _Shared:
    lock: threading.Lock = field(default_factory=threading.Lock)
    doc: dict[str, Any] | None = None
    tag: str | None = None
    done: list[dict[str, Any]] = field(default_factory=list)
    fetch_wanted: threading.Event = field(default_factory=threading.Event)
    alive: dict[str, float] = field(default_factory=dict)


def kiosk_status(socket_path: Path) -> dict[str, Any]:
    """What the kiosk is doing, in the few fields the hub shows (no position: it changes
    every second and would cost a report each time)."""
    try:
        answer = control.status(socket_path)
    except control.KioskUnreachable:
        return {"state": "off", "quiet_reason": "The music box's player is not running."}
    status = answer.get("status") or {}
    out = {k: status.get(k) for k in STATUS_FIELDS if status.get(k) is not None}
    song = status.get("song")
    if isinstance(song, dict):
        out["song"] = {k: song.get(k) for k in SONG_FIELDS if song.get(k) is not None}
    return out


class Agent:
    def __init__(self, settings: AgentSettings, *, notifier: SdNotify | None = None,
                 status: Callable[[Path], dict[str, Any]] = kiosk_status,
                 press: Callable[[Path, str], dict[str, Any]] = control.press) -> None:
        self.s = settings
        self.notifier = notifier or SdNotify()
        self._status = status
        self._press = press
        self._shared = _Shared()
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._after = 0                       # the newest command already carried out
        self._sent_playing: dict[str, Any] | None = None

    # ---- plumbing ----------------------------------------------------------------------

    def _client(self, timeout: float = 30.0) -> HubClient:
        return HubClient(self.s.link.hub, self.s.link.authorization, ca_file=self.s.link.ca_file, timeout=timeout)

    def _db(self) -> sqlite_utils.Database:
        return connect(self.s.db_path)

    def _beat(self, name: str) -> None:
        self._shared.alive[name] = time.monotonic()

    def _pause(self, failures: int) -> None:
        self.stopping.wait(self.s.backoff_s[min(failures, len(self.s.backoff_s) - 1)])

    def _loop(self, name: str, step: Callable[[HubClient, sqlite_utils.Database], None], timeout: float) -> None:
        client, db = self._client(timeout), self._db()
        failures = 0
        refused_said = False
        try:
            while not self.stopping.is_set():
                self._beat(name)
                try:
                    step(client, db)
                    failures, refused_said = 0, False
                except HubRefused as exc:
                    if not refused_said:
                        log.warning("%s The music plays on with what the box has.", exc)
                        refused_said = True
                    failures = len(self.s.backoff_s)
                    self._pause(failures)
                except HubUnreachable as exc:
                    if failures == 2:
                        log.info("%s Trying again; the music plays on.", exc)
                    failures += 1
                    self._pause(failures)
                except (LibraryError, files.Tampered, files.NoRoom, files.Refused, ValueError) as exc:
                    log.warning("%s", exc)
                    failures += 1
                    self._pause(failures)
                except Exception:
                    log.exception("sync step %s failed", name)
                    failures += 1
                    self._pause(failures)
        finally:
            client.close()
            db.close()

    def box_uid(self, db: sqlite_utils.Database) -> str:
        uid = outbox.get_state(db, BOX_UID_KEY, None)
        if not uid:
            uid = f"box{self.s.link.box_id}-{secrets.token_hex(6)}"
            outbox.set_state(db, BOX_UID_KEY, uid)
        return uid

    # ---- waiter: state and commands ----------------------------------------------------

    def _apply(self, db: sqlite_utils.Database, doc: dict[str, Any], tag: str) -> apply.Applied:
        result = apply.apply_state(db, doc, lambda name: files.have(self.s.media_dir, name), self.box_uid(db))
        outbox.set_state(db, ETAG_KEY, tag if result.waiting == 0 else None)
        try:
            control.request(self.s.socket_path, {"cmd": "library_changed"}, timeout=1.0)
        except control.KioskUnreachable:
            pass
        return result

    def pull_state(self, client: HubClient, db: sqlite_utils.Database) -> bool:
        """Fetch and apply the state if it changed. True when a new version was applied."""
        known = self._known_tag(db)
        answer = client.call("GET", "/api/box/state", headers={"If-None-Match": known} if known else {})
        if answer.status == 304:
            return False
        if answer.status != 200:
            raise HubUnreachable(f"The hub answered {answer.status} for this box's state.")
        doc, tag = answer.json(), answer.headers.get("etag", "")
        with self._shared.lock:
            result = self._apply(db, doc, tag)
            self._shared.doc, self._shared.tag = doc, tag
        log.info("Applied version %s from the hub: %d songs%s.", doc.get("version"), result.songs,
                 f", {result.waiting} still downloading" if result.waiting else "")
        for line in result.refused:
            log.warning("%s", line)
        self._shared.fetch_wanted.set()
        return True

    def _known_tag(self, db: sqlite_utils.Database) -> str | None:
        """The version this box holds: the one in memory (even while its files are still
        coming, which the fetcher sees to), else the last one applied whole."""
        with self._shared.lock:
            if self._shared.tag:
                return self._shared.tag
        return outbox.get_state(db, ETAG_KEY, None)

    def _wait_step(self, client: HubClient, db: sqlite_utils.Database) -> None:
        self.pull_state(client, db)
        while not self.stopping.is_set():
            self._beat("waiter")
            after = self._after
            tag = self._known_tag(db) or ""
            answer = client.call("GET", f"/api/box/wait?etag={tag}&after={after}&timeout={self.s.wait_s}",
                                 timeout=self.s.wait_s + 30)
            if answer.status != 200:
                raise HubUnreachable(f"The hub answered {answer.status} while waiting.")
            news = answer.json()
            for command in news.get("commands") or []:
                self._after = max(self._after, int(command["id"]))
                self._run_command(command)
            if news.get("etag") != tag:
                self.pull_state(client, db)
            if news.get("retry"):
                self.stopping.wait(float(news["retry"]))

    def _run_command(self, command: dict[str, Any]) -> None:
        action = str(command.get("action", ""))
        try:
            answer = self._press(self.s.socket_path, action)
            result = "done" if answer.get("ok") else str(answer.get("error") or "The kiosk could not do that.")
        except control.KioskUnreachable as exc:
            result = str(exc)
        with self._shared.lock:
            self._shared.done.append({"id": command["id"], "result": result})

    # ---- fetcher: media ------------------------------------------------------------------

    def missing(self) -> list[dict[str, Any]]:
        with self._shared.lock:
            doc = self._shared.doc
        if not doc:
            return []
        return sorted((s for s in doc["songs"] if files.refusal(s) is None
                       and not files.have(self.s.media_dir, f"{s['sha256']}.{s['ext']}")),
                      key=lambda s: s["size_bytes"])

    def _fetch_step(self, client: HubClient, db: sqlite_utils.Database) -> None:
        if not self._shared.fetch_wanted.wait(5.0):
            return
        downloads = files.downloads_dir(self.s.data)
        for song in self.missing():
            if self.stopping.is_set():
                return
            with self._shared.lock:
                still = self._shared.doc and any(s["sha256"] == song["sha256"] for s in self._shared.doc["songs"])
            if not still:
                continue
            try:
                files.fetch(client, db, self.s.media_dir, downloads, sha256=song["sha256"], ext=song["ext"],
                            size=int(song["size_bytes"]), progress=lambda n: self._beat("fetcher"))
            except files.Gone:
                continue
            with self._shared.lock:
                if self._shared.doc is not None:
                    self._apply(db, self._shared.doc, self._shared.tag or "")
        if not self.missing():
            self._shared.fetch_wanted.clear()
            with self._shared.lock:
                doc = self._shared.doc or {"songs": []}
                wanted = {f"{s['sha256']}.{s['ext']}" for s in doc["songs"] if files.refusal(s) is None}
            files.collect_garbage(db, self.s.media_dir, downloads, wanted,
                                  grace=_dt.timedelta(days=self.s.grace_days))

    # ---- sender: outbox, now playing, command results ---------------------------------------

    def _send_step(self, client: HubClient, db: sqlite_utils.Database) -> None:
        self.stopping.wait(self.s.send_every_s)
        self._watchdog()
        outbox.collect_plays(db, self.box_uid(db))
        outbox.collect_reactions(db)
        items = outbox.pending(db)
        playing = self._status(self.s.socket_path)
        with self._shared.lock:
            done = list(self._shared.done)
        changed = playing != self._sent_playing
        if not (items or done or changed):
            return
        report: dict[str, Any] = {"items": [{"uid": i.uid, "kind": i.kind, "payload": i.payload} for i in items],
                                  "done": done}
        if changed:
            report["playing"] = playing
        answer = client.call("POST", "/api/box/report", report)
        if answer.status != 200:
            raise HubUnreachable(f"The hub answered {answer.status} to the box's report.")
        outbox.forget(db, list(answer.json().get("acked") or []))
        with self._shared.lock:
            del self._shared.done[:len(done)]
        self._sent_playing = playing

    def _watchdog(self) -> None:
        """Tell systemd all is well only while each loop has shown life recently enough."""
        now = time.monotonic()
        limits = {"waiter": self.s.wait_s + 120, "sender": 60}
        if self._shared.fetch_wanted.is_set():
            limits["fetcher"] = 300
        if all(now - self._shared.alive.get(name, now) < limit for name, limit in limits.items()):
            self.notifier.watchdog()

    # ---- running ------------------------------------------------------------------------

    def start(self) -> None:
        db = self._db()
        try:
            self.box_uid(db)
            if apply.applied(db).get("waiting"):
                self._shared.fetch_wanted.set()
        finally:
            db.close()
        for name, step, timeout in (("waiter", self._wait_step, self.s.wait_s + 30),
                                    ("fetcher", self._fetch_step, 60.0),
                                    ("sender", self._send_step, 30.0)):
            t = threading.Thread(target=self._loop, args=(name, step, timeout), name=f"sync-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        self.notifier.ready()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self._shared.fetch_wanted.set()
        for t in self._threads:
            t.join(timeout)
        self.notifier.stopping()


def status_line(db: sqlite_utils.Database) -> str:
    state = apply.applied(db)
    return json.dumps({"version": state.get("version"), "waiting": state.get("waiting"),
                       "outbox": outbox.count(db)})
