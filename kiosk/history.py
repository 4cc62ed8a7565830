"""What the kiosk writes: play history, and its own state kept across restarts.

Every write goes through `content.db.write` (BEGIN IMMEDIATE), so the admin writing at
the same time never meets "database is locked".
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from content.db import write
from content.timestamps import utc_iso

RESUME_KEY = "resume"
RESIDENT_KEY = "resident_id"


@dataclass(frozen=True)
class ResumePoint:
    resident_id: int
    song_id: int
    position: float


class History:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db

    def start(self, resident_id: int, song_id: int) -> int:
        with write(self._db):
            cur = self._db.execute(
                "INSERT INTO plays (resident_id, song_id, started_at, seconds_heard) VALUES (?, ?, ?, 0)",
                [resident_id, song_id, utc_iso()],
            )
            return int(cur.lastrowid)

    def end(self, play_id: int, seconds_heard: float, how: str) -> None:
        with write(self._db):
            self._db.execute(
                "UPDATE plays SET ended_at = ?, seconds_heard = ?, ended_how = ? WHERE id = ?",
                [utc_iso(), round(max(0.0, seconds_heard), 1), how, play_id],
            )

    def progress(self, play_id: int, seconds_heard: float, resume: ResumePoint) -> None:
        """Called every few seconds while music plays: if the power goes, the play row
        and the resume point are at most that old."""
        with write(self._db):
            self._db.execute("UPDATE plays SET seconds_heard = ? WHERE id = ?",
                             [round(max(0.0, seconds_heard), 1), play_id])
            self.save_resume(resume)

    def close_unfinished(self) -> int:
        """Plays left open by a power cut or a crash: end them as power_cut."""
        saved = self.load(RESUME_KEY) or {}
        with write(self._db):
            cur = self._db.execute(
                "UPDATE plays SET ended_at = COALESCE(?, started_at), ended_how = 'power_cut' WHERE ended_at IS NULL",
                [saved.get("saved_at")],
            )
            return cur.rowcount

    def save_resume(self, point: ResumePoint) -> None:
        self.save(RESUME_KEY, {"resident_id": point.resident_id, "song_id": point.song_id,
                               "position": round(point.position, 2), "saved_at": utc_iso()})

    def load_resume(self) -> ResumePoint | None:
        raw = self.load(RESUME_KEY)
        if not raw:
            return None
        try:
            return ResumePoint(int(raw["resident_id"]), int(raw["song_id"]), float(raw["position"]))
        except (KeyError, TypeError, ValueError):
            return None

    def clear_resume(self) -> None:
        with write(self._db):
            self._db.execute("DELETE FROM kiosk_state WHERE key = ?", [RESUME_KEY])

    def save(self, key: str, value: Any) -> None:
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
