"""Reading and changing the library: residents, their songs, plays, the audit log.

Plain functions over a sqlite-utils Database opened by `content.db.connect`; every
change runs inside `content.db.write` so it takes the write lock up front.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from content.db import LibraryError, write
from content.text import NAME_MAX, clean_line, clean_note
from content.timestamps import utc_iso


@dataclass(frozen=True)
class Resident:
    id: int
    name: str
    birth_year: int | None
    full_name: str | None = None
    photo: str | None = None
    volume_cap: int | None = None
    start_volume: int | None = None
    session_minutes: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Resident":
        return cls(
            id=row["id"],
            name=row["name"],
            birth_year=row["birth_year"],
            full_name=row.get("full_name"),
            photo=row.get("photo"),
            volume_cap=row.get("volume_cap"),
            start_volume=row.get("start_volume"),
            session_minutes=row.get("session_minutes"),
        )


@dataclass(frozen=True)
class ResidentSong:
    """A song as it stands for one resident."""

    song_id: int
    sha256: str
    ext: str
    title: str
    artist: str
    album: str
    year: int | None
    year_source: str | None
    duration: float
    favourite: bool
    never_play: bool
    note: str
    unplayable: bool

    @property
    def filename(self) -> str:
        return f"{self.sha256}.{self.ext}"


def add_resident(db: sqlite_utils.Database, name: str, birth_year: int | None = None, **extra: Any) -> Resident:
    name = clean_line(name, "name", NAME_MAX)
    if not name:
        raise LibraryError("A resident needs a name.")
    if birth_year is not None and not (1880 <= int(birth_year) <= _dt.date.today().year):
        raise LibraryError(f"{birth_year} is not a birth year we can read. Please write it as four digits, like 1938.")
    with write(db):
        if find_resident(db, name) is not None:
            raise LibraryError(f"There is already a resident called {name}.")
        rid = db["residents"].insert({"name": name, "birth_year": birth_year, **extra}).last_pk
        audit(db, "resident.add", resident_id=rid, detail={"name": name})
    return get_resident(db, rid)


def get_resident(db: sqlite_utils.Database, resident_id: int) -> Resident:
    rows = list(db.query("SELECT * FROM residents WHERE id = ?", [resident_id]))
    if not rows:
        raise LibraryError(f"There is no resident number {resident_id}.")
    return Resident.from_row(rows[0])


def find_resident(db: sqlite_utils.Database, name: str) -> Resident | None:
    rows = list(db.query("SELECT * FROM residents WHERE name = ? COLLATE NOCASE", [" ".join(name.split())]))
    return Resident.from_row(rows[0]) if rows else None


def resident_by_name(db: sqlite_utils.Database, name: str) -> Resident:
    """Like find_resident, but a missing resident is an error a person can read."""
    found = find_resident(db, name)
    if found is None:
        raise LibraryError(f"There is no resident called {name}.")
    return found


def list_residents(db: sqlite_utils.Database) -> list[Resident]:
    return [Resident.from_row(r) for r in db.query("SELECT * FROM residents ORDER BY name COLLATE NOCASE")]


_RESIDENT_SONG_SQL = """
SELECT s.id AS song_id, s.sha256, s.ext, rs.title, rs.artist, s.album, rs.year, rs.year_source,
       s.duration, s.unplayable, rs.favourite, rs.never_play, rs.note
FROM resident_songs rs JOIN songs s ON s.id = rs.song_id
WHERE rs.resident_id = ?
"""


def _resident_song(r: dict[str, Any]) -> ResidentSong:
    return ResidentSong(
        song_id=r["song_id"], sha256=r["sha256"], ext=r["ext"], title=r["title"],
        artist=r["artist"], album=r["album"], year=r["year"], year_source=r["year_source"],
        duration=r["duration"], favourite=bool(r["favourite"]), never_play=bool(r["never_play"]),
        note=r["note"], unplayable=bool(r["unplayable"]),
    )


def resident_songs(db: sqlite_utils.Database, resident_id: int, *, include_never: bool = True) -> list[ResidentSong]:
    """A resident's songs, each with that resident's own names, year, note and flags."""
    sql = _RESIDENT_SONG_SQL
    if not include_never:
        sql += " AND rs.never_play = 0"
    sql += " ORDER BY COALESCE(rs.position, 1e9), rs.artist COLLATE NOCASE, rs.title COLLATE NOCASE"
    return [_resident_song(r) for r in db.query(sql, [resident_id])]


def resident_song(db: sqlite_utils.Database, resident_id: int, song_id: int) -> ResidentSong | None:
    """One song as it stands for one resident, or None when they do not have it."""
    rows = list(db.query(_RESIDENT_SONG_SQL + " AND rs.song_id = ?", [resident_id, song_id]))
    return _resident_song(rows[0]) if rows else None


def link_song(db: sqlite_utils.Database, resident_id: int, song_id: int, *, user_id: int | None = None) -> bool:
    """Give a resident a song: a new entry of their own, named as the file names itself
    (never as another resident's family named it), with its year decided for the entry.
    Returns False when they already had it."""
    from content.era import years   # years records its decisions through this module
    with write(db):
        cur = db.execute(
            "INSERT OR IGNORE INTO resident_songs (resident_id, song_id, added_by, title, artist) "
            "SELECT ?, id, ?, title, artist FROM songs WHERE id = ?",
            [resident_id, user_id, song_id],
        )
        if cur.rowcount != 1:
            if db.execute("SELECT 1 FROM songs WHERE id = ?", [song_id]).fetchone() is None:
                raise LibraryError(f"There is no song number {song_id}.")
            return False
        years.resolve_entry(db, resident_id, song_id)
        return True


def set_song_flags(
    db: sqlite_utils.Database,
    resident_id: int,
    song_id: int,
    *,
    favourite: bool | None = None,
    never_play: bool | None = None,
    never_play_reason: str | None = None,
    note: str | None = None,
    user_id: int | None = None,
) -> None:
    changes: dict[str, Any] = {}
    if favourite is not None:
        changes["favourite"] = int(favourite)
    if never_play is not None:
        changes["never_play"] = int(never_play)
        changes["never_play_reason"] = (clean_note(never_play_reason, "reason") or None) if never_play else None
    if note is not None:
        changes["note"] = clean_note(note)
    if not changes:
        return
    with write(db):
        sets = ", ".join(f"{k} = ?" for k in changes)
        cur = db.execute(
            f"UPDATE resident_songs SET {sets} WHERE resident_id = ? AND song_id = ?",
            [*changes.values(), resident_id, song_id],
        )
        if cur.rowcount != 1:
            raise LibraryError("That song is not in this resident's library.")
        audit(db, "song.flags", user_id=user_id, resident_id=resident_id, song_id=song_id, detail=changes)


def mark_unplayable(db: sqlite_utils.Database, song_id: int, reason: str) -> None:
    with write(db):
        cur = db.execute("UPDATE songs SET unplayable = 1, unplayable_reason = ? WHERE id = ?", [reason, song_id])
        if cur.rowcount:         # a song deleted while it played has nothing left to mark
            audit(db, "song.unplayable", song_id=song_id, detail={"reason": reason})


def audit(
    db: sqlite_utils.Database,
    action: str,
    *,
    user_id: int | None = None,
    resident_id: int | None = None,
    song_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append to the audit log (inside the caller's write transaction when there is one)."""
    with write(db):
        db.execute(
            "INSERT INTO audit_log (at, user_id, action, resident_id, song_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
            [utc_iso(), user_id, action, resident_id, song_id, json.dumps(detail or {}, default=str)],
        )


def get_setting(db: sqlite_utils.Database, key: str, default: Any = None) -> Any:
    rows = list(db.query("SELECT value FROM settings WHERE key = ?", [key]))
    return json.loads(rows[0]["value"]) if rows else default


def set_setting(db: sqlite_utils.Database, key: str, value: Any) -> None:
    with write(db):
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value)],
        )


# --- what the kiosk asks -----------------------------------------------------------------

@dataclass(frozen=True)
class SongFile:
    """A song as the player needs it: what to say, how long it is, which stored file."""

    id: int
    title: str
    artist: str
    year: int | None
    duration: float
    filename: str

    def describe(self) -> str:
        text = self.title
        if self.artist:
            text += f" - {self.artist}"
        if self.year:
            text += f" ({self.year})"
        return text


@dataclass(frozen=True)
class Standing:
    """Where a song stands for a resident now: does it still exist, is it theirs, may it play."""

    exists: bool
    theirs: bool
    never_play: bool


def song_file(db: sqlite_utils.Database, song_id: int, resident_id: int | None = None) -> SongFile | None:
    """The song as `resident_id`'s own entry names it; a song they do not have (decade
    radio's top-up from another resident's library) goes by what its file says, never by
    another family's names."""
    row = db.execute(
        "SELECT s.id, COALESCE(rs.title, s.title), COALESCE(rs.artist, s.artist), rs.year, s.duration, s.sha256, "
        "s.ext FROM songs s LEFT JOIN resident_songs rs ON rs.song_id = s.id AND rs.resident_id = ? WHERE s.id = ?",
        [resident_id if resident_id is not None else -1, song_id]).fetchone()
    if not row:
        return None
    return SongFile(row[0], row[1], row[2] or "", row[3], float(row[4] or 0), f"{row[5]}.{row[6]}")


def may_play(db: sqlite_utils.Database, resident_id: int, song_id: int) -> bool:
    """The resident has this song, it is not red-flagged, and its file can be played."""
    row = db.execute(
        "SELECT rs.never_play, s.unplayable FROM resident_songs rs JOIN songs s ON s.id = rs.song_id "
        "WHERE rs.resident_id = ? AND rs.song_id = ?", [resident_id, song_id]).fetchone()
    return bool(row) and not row[0] and not row[1]


def standing(db: sqlite_utils.Database, resident_id: int, song_id: int) -> Standing:
    flag = db.execute("SELECT never_play FROM resident_songs WHERE resident_id = ? AND song_id = ?",
                      [resident_id, song_id]).fetchone()
    exists = db.execute("SELECT 1 FROM songs WHERE id = ?", [song_id]).fetchone() is not None
    return Standing(exists=exists, theirs=flag is not None, never_play=bool(flag and flag[0]))


def song_count(db: sqlite_utils.Database, resident_id: int) -> int:
    return db.execute("SELECT COUNT(*) FROM resident_songs WHERE resident_id = ?", [resident_id]).fetchone()[0]


def decades(db: sqlite_utils.Database, resident_id: int) -> list[int]:
    """The decades of the resident's songs that may play (for decade buttons)."""
    return [row[0] for row in db.execute(
        "SELECT DISTINCT (rs.year / 10) * 10 FROM resident_songs rs "
        "WHERE rs.resident_id = ? AND rs.year IS NOT NULL AND rs.never_play = 0 ORDER BY 1", [resident_id])]
