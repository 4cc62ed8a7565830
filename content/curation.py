"""The changes to the library that people make from the admin: a song's details, taking a
song away from a resident, a resident's settings and photo; and the lists the pages show.

Every change runs inside `content.db.write` and is written to the audit log.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from content import ingest, library, media
from content.db import LibraryError, write
from content.era import years

EARLIEST_YEAR = 1800
PHOTO_MAX_BYTES = 10 * 1024 * 1024
_PHOTO_KINDS = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))
ENDED_WORDS = {
    "finished": "played to the end",
    "next": "skipped to the next song",
    "previous": "went back a song",
    "stopped": "stopped with the button",
    "error": "could not play",
    "session_end": "session time ended",
    "red_flag": "stopped: marked never play",
    "power_cut": "power went off",
    None: "still playing, or not recorded",
}
YEAR_SOURCE_WORDS = {
    "family": "entered by family or staff",
    "catalogue": "found in the song catalogue",
    "tag": "from the file's details",
    "filename": "guessed from the file name",
    None: "not known yet",
}


def _whole_number(text: str) -> bool:
    """Plain digits 0-9, and not so many that int() would refuse or the number overflow
    SQLite ("²".isdigit() is True, and int("²") fails)."""
    return text.isascii() and text.isdigit() and len(text) <= 6


def parse_year(text: str | None, *, what: str = "year") -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not _whole_number(text) or not (EARLIEST_YEAR <= int(text) <= _dt.date.today().year):
        raise LibraryError(f"“{text}” does not look like a {what}. Please write it like 1952.")
    return int(text)


def parse_whole(text: str | None, low: int, high: int, what: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not _whole_number(text) or not (low <= int(text) <= high):
        raise LibraryError(f"The {what} should be a number from {low} to {high}.")
    return int(text)


def update_song(db: sqlite_utils.Database, song_id: int, *, title: str, artist: str, year: int | None,
                user_id: int | None = None, resident_id: int | None = None) -> None:
    """Edit what a song is called and when it came out. A year typed by a person wins over
    any catalogue or tag guess, so its source becomes 'family'."""
    title = " ".join((title or "").split())
    artist = " ".join((artist or "").split())
    if not title:
        raise LibraryError("A song needs a title.")
    with write(db):
        old = db["songs"].get(song_id)
        changes: dict[str, Any] = {"title": title, "artist": artist}
        db["songs"].update(song_id, changes)
        if year != old["year"]:
            # A person's year wins; clearing it hands the song back to the automatic decision.
            years.set_family_year(db, song_id, year, user_id=user_id)
        elif (title, artist) != (old["title"], old["artist"]):
            years.resolve_song(db, song_id)   # new names may match another catalogue song
        library.audit(db, "song.edit", user_id=user_id, resident_id=resident_id, song_id=song_id,
                      detail={k: [old[k], v] for k, v in changes.items() if old[k] != v})


def set_year(db: sqlite_utils.Database, song_id: int, year: int | None, *, user_id: int | None = None,
             resident_id: int | None = None) -> None:
    row = db["songs"].get(song_id)
    update_song(db, song_id, title=row["title"], artist=row["artist"], year=year, user_id=user_id,
                resident_id=resident_id)


class StaffFlag(LibraryError):
    """A family member tried to lift a red flag that care staff set."""


def set_red_flag(db: sqlite_utils.Database, resident_id: int, song_id: int, *, on: bool, reason: str,
                 user_id: int, by_staff: bool, resident_name: str) -> bool:
    """Mark a song never to play for a resident, or lift that mark, remembering whether staff
    or family set it: a flag staff set (or one whose setter is not known, such as the
    kiosk's red button) is a care decision only staff may lift.
    Returns False when nothing changed (a family flag on a song staff already flagged)."""
    with write(db):
        row = db.execute("SELECT never_play, never_play_by_role FROM resident_songs WHERE resident_id = ? AND song_id = ?",
                         [resident_id, song_id]).fetchone()
        if row is None:
            raise LibraryError("That song is not in this resident's library.")
        staff_flag = bool(row[0]) and row[1] != "family"
        if staff_flag and not by_staff:
            if on:
                return False   # it already never plays; staff's flag and reason stay as they are
            raise StaffFlag(f"Care staff marked this song never to play for {resident_name}. "
                            "Please ask them if you think it should play again.")
        library.set_song_flags(db, resident_id, song_id, never_play=on, never_play_reason=reason, user_id=user_id)
        db.execute("UPDATE resident_songs SET never_play_by_role = ? WHERE resident_id = ? AND song_id = ?",
                   [("staff" if by_staff else "family") if on else None, resident_id, song_id])
    return True


def remove_from_resident(db: sqlite_utils.Database, media_dir: Path, resident_id: int, song_id: int, *,
                         user_id: int | None = None) -> bool:
    """Take a song away from one resident. When no resident has it any more, the song and
    its file go too (ingest's own removal, under the media folder's lock).
    Returns True when the file was deleted."""
    with write(db):
        song = db["songs"].get(song_id)
        cur = db.execute("DELETE FROM resident_songs WHERE resident_id = ? AND song_id = ?", [resident_id, song_id])
        if cur.rowcount != 1:
            raise LibraryError("That song is not in this resident's library.")
        library.audit(db, "song.remove", user_id=user_id, resident_id=resident_id, song_id=song_id,
                      detail={"title": song["title"], "artist": song["artist"]})
    return ingest.remove_if_unused(db, media_dir, song_id)


def update_resident(db: sqlite_utils.Database, resident_id: int, *, name: str, birth_year: int | None,
                    volume_cap: int | None, session_minutes: int | None, user_id: int | None = None) -> None:
    name = " ".join((name or "").split())
    if not name:
        raise LibraryError("A resident needs a name.")
    with write(db):
        other = library.find_resident(db, name)
        if other is not None and other.id != resident_id:
            raise LibraryError(f"There is already a resident called {name}.")
        changes = {"name": name, "birth_year": birth_year, "volume_cap": volume_cap, "session_minutes": session_minutes}
        db["residents"].update(resident_id, changes)
        library.audit(db, "resident.edit", user_id=user_id, resident_id=resident_id, detail=changes)


def _photo_kind(head: bytes) -> str | None:
    for magic, ext in _PHOTO_KINDS:
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def set_photo(db: sqlite_utils.Database, media_dir: Path, resident_id: int, source, *,
              user_id: int | None = None) -> str:
    """Store a resident's photo (JPEG, PNG or WebP, up to 10 MB) as media/photo-<sha256>.<ext>,
    written whole before the row points at it. `source` is a readable binary file."""
    head = source.read(16)
    kind = _photo_kind(head)
    if kind is None:
        raise LibraryError("That file is not a photo we can show. Please choose a JPEG or PNG picture.")
    media_dir = Path(media_dir)
    with media.locked(media_dir):
        name = _store_photo(media_dir, source, head, kind)
        with write(db):
            old = library.get_resident(db, resident_id).photo
            db["residents"].update(resident_id, {"photo": name})
            library.audit(db, "resident.photo", user_id=user_id, resident_id=resident_id)
            still_used = old and list(db.query("SELECT 1 FROM residents WHERE photo = ?", [old]))
        if old and old != name and not still_used:
            (media_dir / old).unlink(missing_ok=True)
    return name


def _store_photo(media_dir: Path, source, head: bytes, kind: str) -> str:
    digest = hashlib.sha256(head)
    size = len(head)
    fd, tmp = tempfile.mkstemp(dir=media_dir, prefix=".photo-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(head)
            while chunk := source.read(1024 * 1024):
                size += len(chunk)
                if size > PHOTO_MAX_BYTES:
                    raise LibraryError("That photo is too big. Please choose one under 10 MB.")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        name = f"photo-{digest.hexdigest()}.{kind}"
        os.replace(tmp, media_dir / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return name


@dataclass(frozen=True)
class SongPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def resident_song_page(db: sqlite_utils.Database, resident_id: int, *, query: str = "", page: int = 1,
                       page_size: int = 100) -> SongPage:
    """One page of a resident's songs, with how often and when each was last played for them."""
    where = "rs.resident_id = :rid"
    params: dict[str, Any] = {"rid": resident_id}
    if query.strip():
        where += " AND (s.title LIKE :q OR s.artist LIKE :q OR CAST(s.year AS TEXT) = :y)"
        params.update(q=f"%{query.strip()}%", y=query.strip())
    total = next(db.query(f"SELECT COUNT(*) AS n FROM resident_songs rs JOIN songs s ON s.id = rs.song_id WHERE {where}",
                          params))["n"]
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    params.update(limit=page_size, offset=(page - 1) * page_size)
    # Page first, then count plays for just these songs (through the plays_song index):
    # aggregating every play of a busy resident on each view is what made the page slow.
    rows = [dict(r) for r in db.query(
        f"""
        WITH page AS MATERIALIZED (
            SELECT s.id, s.sha256, s.ext, s.title, s.artist, s.year, s.year_source, s.year_confidence,
                   s.duration, s.unplayable, rs.favourite, rs.never_play, rs.never_play_reason, rs.note
            FROM resident_songs rs JOIN songs s ON s.id = rs.song_id
            WHERE {where}
            ORDER BY rs.never_play, s.artist COLLATE NOCASE, s.title COLLATE NOCASE
            LIMIT :limit OFFSET :offset
        )
        SELECT page.*,
               (SELECT COUNT(*) FROM plays p WHERE p.song_id = page.id AND +p.resident_id = :rid) AS plays,
               (SELECT MAX(started_at) FROM plays p WHERE p.song_id = page.id AND +p.resident_id = :rid) AS last_played
        FROM page
        """, params)]
    return SongPage(rows=rows, total=total, page=page, pages=pages)


def recent_plays(db: sqlite_utils.Database, resident_id: int, limit: int = 50) -> list[dict[str, Any]]:
    return [dict(r) for r in db.query(
        """
        SELECT p.started_at, p.ended_at, p.seconds_heard, p.ended_how, s.title, s.artist, s.id AS song_id
        FROM plays p LEFT JOIN songs s ON s.id = p.song_id
        WHERE p.resident_id = ? ORDER BY p.started_at DESC LIMIT ?
        """, [resident_id, limit])]
