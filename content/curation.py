"""Curation: the changes people make to the library (from the admin today, from the CLI
or a hub tomorrow) and the rules they obey: a song's details and year, the red flag (a
flag care staff set is theirs to lift), taking a song away from a resident, a resident's
settings. Photos are in `content.photos`, the lists the pages show in `content.listings`.

Every change runs inside `content.db.write` and is written to the audit log.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import sqlite_utils

from content import ingest, library
from content.db import LibraryError, write
from content.era import years
from content.text import NAME_MAX, clean_line

EARLIEST_YEAR = 1800


def _whole_number(text: str) -> bool:
    """Plain digits 0-9, and not so many that int() would refuse or the number overflow
    SQLite ("²".isdigit() is True, and int("²") fails)."""
    return text.isascii() and text.isdigit() and len(text) <= 6


def parse_year(text: str | None, *, what: str = "year") -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not _whole_number(text) or not (EARLIEST_YEAR <= int(text) <= _dt.date.today().year):
        raise LibraryError(f"“{text}” is not a {what} we can read. Please write it as four digits, like 1956.")
    return int(text)


def parse_whole(text: str | None, low: int, high: int, what: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not _whole_number(text) or not (low <= int(text) <= high):
        raise LibraryError(f"The {what} should be a number from {low} to {high}.")
    return int(text)


def update_entry(db: sqlite_utils.Database, resident_id: int, song_id: int, *, title: str, artist: str,
                 year: int | None, user_id: int | None = None) -> None:
    """Edit what a resident's entry calls a song and when it came out. Each resident's family
    and staff name the song for that resident only; the shared file and other residents'
    entries are untouched. A year typed by a person wins over any catalogue or tag guess,
    so its source becomes 'family'."""
    title = clean_line(title, "title")
    artist = clean_line(artist, "singer or band")
    if not title:
        raise LibraryError("A song needs a title.")
    with write(db):
        old = library.resident_song(db, resident_id, song_id)
        if old is None:
            raise LibraryError("That song is not in this resident's library.")
        db.execute("UPDATE resident_songs SET title = ?, artist = ? WHERE resident_id = ? AND song_id = ?",
                   [title, artist, resident_id, song_id])
        if year != old.year:
            # A person's year wins; clearing it hands the entry back to the automatic decision.
            years.set_family_year(db, resident_id, song_id, year, user_id=user_id)
        elif (title, artist) != (old.title, old.artist):
            years.resolve_entry(db, resident_id, song_id)   # new names may match another catalogue song
        changes = {"title": [old.title, title], "artist": [old.artist, artist]}
        library.audit(db, "song.edit", user_id=user_id, resident_id=resident_id, song_id=song_id,
                      detail={k: v for k, v in changes.items() if v[0] != v[1]})


def set_year(db: sqlite_utils.Database, resident_id: int, song_id: int, year: int | None, *,
             user_id: int | None = None) -> None:
    entry = library.resident_song(db, resident_id, song_id)
    if entry is None:
        raise LibraryError("That song is not in this resident's library.")
    update_entry(db, resident_id, song_id, title=entry.title, artist=entry.artist, year=year, user_id=user_id)


class StaffFlag(LibraryError):
    """A family member tried to lift a red flag that care staff set."""


def may_lift_flag(never_play: bool, set_by_role: str | None, *, by_staff: bool) -> bool:
    """Whether this person may let a never-play song play again: staff always; family only a
    flag family set (one staff set, or whose setter is not known, is a care decision)."""
    return bool(never_play) and (by_staff or set_by_role == "family")


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
        if row[0] and not may_lift_flag(row[0], row[1], by_staff=by_staff):
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
        entry = library.resident_song(db, resident_id, song_id)
        if entry is None:
            raise LibraryError("That song is not in this resident's library.")
        db.execute("DELETE FROM resident_songs WHERE resident_id = ? AND song_id = ?", [resident_id, song_id])
        library.audit(db, "song.remove", user_id=user_id, resident_id=resident_id, song_id=song_id,
                      detail={"title": entry.title, "artist": entry.artist})
    return ingest.remove_if_unused(db, media_dir, song_id)


def check_resident_name(db: sqlite_utils.Database, resident_id: int, name: str) -> None:
    """The name update_resident would refuse, refused before anything else is stored."""
    name = " ".join((name or "").split())
    if not name:
        raise LibraryError("A resident needs a name.")
    other = library.find_resident(db, name)
    if other is not None and other.id != resident_id:
        raise LibraryError(f"There is already a resident called {name}.")


def update_resident(db: sqlite_utils.Database, resident_id: int, *, name: str, birth_year: int | None,
                    volume_cap: int | None, session_minutes: int | None, user_id: int | None = None) -> None:
    name = clean_line(name, "name", NAME_MAX)
    if not name:
        raise LibraryError("A resident needs a name.")
    with write(db):
        other = library.find_resident(db, name)
        if other is not None and other.id != resident_id:
            raise LibraryError(f"There is already a resident called {name}.")
        changes = {"name": name, "birth_year": birth_year, "volume_cap": volume_cap, "session_minutes": session_minutes}
        db["residents"].update(resident_id, changes)
        library.audit(db, "resident.edit", user_id=user_id, resident_id=resident_id, detail=changes)
