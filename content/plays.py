"""Play history and the kiosk's own state kept across restarts: what the kiosk writes.

`PlayEnd` is the one vocabulary for how a play ended, shared by the kiosk (which writes
it), the queue (early skips sink a song) and the admin (which puts it into words).
Every write goes through `content.db.write` (BEGIN IMMEDIATE), so the admin writing at
the same time never meets "database is locked".

A write that fails (a full disk, a damaged or read-only library) is logged and dropped:
the history loses a row, the music goes on. The kiosk never stops playing because it could
not write down that it played.
"""
from __future__ import annotations

import functools
import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable, TypeVar

import sqlite_utils

from content.db import write
from content.timestamps import utc_iso


class PlayEnd(StrEnum):
    """How a play ended, as stored in plays.ended_how."""

    FINISHED = "finished"
    NEXT = "next"
    PREVIOUS = "previous"
    STOPPED = "stopped"
    ERROR = "error"
    SESSION_END = "session_end"
    RED_FLAG = "red_flag"
    REMOVED = "removed"          # taken out of the resident's songs while it played
    POWER_CUT = "power_cut"


SKIPS = (PlayEnd.NEXT, PlayEnd.PREVIOUS)

RESUME_KEY = "resume"
RESIDENT_KEY = "resident_id"
LOG_EVERY_S = 60.0                 # a failing disk is logged once a minute, not four times a second
log = logging.getLogger("kiosk.history")
T = TypeVar("T")


def _dropped_on_failure(method: Callable[..., T]) -> Callable[..., T | None]:
    """Run a write; if the library cannot be written, log it (now and then) and return None."""
    @functools.wraps(method)
    def wrapped(self: "History", *args: Any, **kwargs: Any) -> T | None:
        try:
            result = method(self, *args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            self.dropped += 1
            self._broken = True
            now = time.monotonic()
            if now - self._last_logged >= LOG_EVERY_S:
                self._last_logged = now
                log.error("Could not write the play history (%s): %s; the music goes on, %d write(s) dropped "
                          "so far. Is the library's disk full?", method.__name__, exc, self.dropped)
            return None
        if self._broken:
            self._broken = False
            log.warning("The play history can be written again (%d write(s) were dropped).", self.dropped)
        return result
    return wrapped


@dataclass(frozen=True)
class ResumePoint:
    resident_id: int
    song_id: int
    position: float


class History:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self.dropped = 0
        self._broken = False
        self._last_logged = -LOG_EVERY_S

    @_dropped_on_failure
    def start(self, resident_id: int, song_id: int) -> int:
        with write(self._db):
            cur = self._db.execute(
                "INSERT INTO plays (resident_id, song_id, started_at, seconds_heard) VALUES (?, ?, ?, 0)",
                [resident_id, song_id, utc_iso()],
            )
            return int(cur.lastrowid)

    @_dropped_on_failure
    def end(self, play_id: int | None, seconds_heard: float, how: PlayEnd) -> None:
        if play_id is None:
            return
        with write(self._db):
            self._db.execute(
                "UPDATE plays SET ended_at = ?, seconds_heard = ?, ended_how = ? WHERE id = ?",
                [utc_iso(), round(max(0.0, seconds_heard), 1), str(how), play_id],
            )

    @_dropped_on_failure
    def progress(self, play_id: int | None, seconds_heard: float, resume: ResumePoint) -> None:
        """Called every few seconds while music plays: if the power goes, the play row
        and the resume point are at most that old."""
        with write(self._db):
            if play_id is not None:
                self._db.execute("UPDATE plays SET seconds_heard = ? WHERE id = ?",
                                 [round(max(0.0, seconds_heard), 1), play_id])
            self._save(RESUME_KEY, self._resume_value(resume))

    @_dropped_on_failure
    def close_unfinished(self) -> int:
        """Plays left open by a power cut or a crash: end them as power_cut."""
        saved = self.load(RESUME_KEY) or {}
        with write(self._db):
            cur = self._db.execute(
                "UPDATE plays SET ended_at = COALESCE(?, started_at), ended_how = ? WHERE ended_at IS NULL",
                [saved.get("saved_at"), str(PlayEnd.POWER_CUT)],
            )
            return cur.rowcount

    def recent_songs(self, resident_id: int, limit: int) -> list[int]:
        """The songs this resident heard last, oldest first, from `plays`: after a restart
        they rest as they would have within one run."""
        rows = self._db.execute(
            "SELECT song_id FROM plays WHERE resident_id = ? AND song_id IS NOT NULL ORDER BY id DESC LIMIT ?",
            [resident_id, limit]).fetchall()
        return [r[0] for r in reversed(rows)]

    @staticmethod
    def _resume_value(point: ResumePoint) -> dict[str, Any]:
        return {"resident_id": point.resident_id, "song_id": point.song_id,
                "position": round(point.position, 2), "saved_at": utc_iso()}

    def save_resume(self, point: ResumePoint) -> None:
        self.save(RESUME_KEY, self._resume_value(point))

    def load_resume(self) -> ResumePoint | None:
        raw = self.load(RESUME_KEY)
        if not raw:
            return None
        try:
            return ResumePoint(int(raw["resident_id"]), int(raw["song_id"]), float(raw["position"]))
        except (KeyError, TypeError, ValueError):
            return None

    @_dropped_on_failure
    def clear_resume(self) -> None:
        with write(self._db):
            self._db.execute("DELETE FROM kiosk_state WHERE key = ?", [RESUME_KEY])

    @_dropped_on_failure
    def save(self, key: str, value: Any) -> None:
        self._save(key, value)

    def _save(self, key: str, value: Any) -> None:
        with write(self._db):
            self._db.execute(
                "INSERT INTO kiosk_state (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, json.dumps(value)],
            )

    def load(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM kiosk_state WHERE key = ?", [key]).fetchone()
        if not row:
            return None
        try:
            return json.loads(row[0])
        except ValueError:
            return None
