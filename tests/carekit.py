"""Shared pieces for the care loop's tests: songs and plays written straight into a real
library (no audio needed where only the rows matter)."""
from __future__ import annotations

import datetime as dt
import hashlib

from content import library
from content.db import write
from content.timestamps import utc_iso

UTC = dt.timezone.utc


def add_song(db, resident_id: int | None, title: str, artist: str = "", year: int | None = 1955, **entry) -> int:
    """A song row (its file is not needed here), given to the resident with `entry` on their
    resident_songs row (favourite=1, feel='calm', detective='keeper', ...)."""
    digest = hashlib.sha256(f"{title}/{artist}/{year}".encode()).hexdigest()
    with write(db):
        sid = db["songs"].insert({"sha256": digest, "ext": "ogg", "format": "ogg", "title": title,
                                  "artist": artist or f"{title} band", "tag_year": year,
                                  "duration": 180.0, "size_bytes": 1000}).last_pk
    if resident_id is not None:
        library.link_song(db, resident_id, sid)
        entry = {"year": year, "year_source": "tag" if year else None, **entry}   # whatever the catalogue says
        if entry:
            with write(db):
                sets = ", ".join(f"{k} = ?" for k in entry)
                db.execute(f"UPDATE resident_songs SET {sets} WHERE resident_id = ? AND song_id = ?",
                           [*entry.values(), resident_id, sid])
    return sid


def add_play(db, resident_id: int, song_id: int, start: dt.datetime, seconds: float = 180.0,
             how: str | None = "finished") -> int:
    with write(db):
        return db.execute(
            "INSERT INTO plays (resident_id, song_id, started_at, ended_at, seconds_heard, ended_how) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [resident_id, song_id, utc_iso(start),
             utc_iso(start + dt.timedelta(seconds=seconds)) if how else None, seconds, how]).lastrowid


def at(day: int, hour: int, minute: int = 0, month: int = 5) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)
