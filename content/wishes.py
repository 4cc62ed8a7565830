"""Songs someone will look for, for one resident: a family member's "we'll look for it" on a
teenage-years suggestion, or staff asking the family for one. A wish stays on the list
until the resident's library has the song (matched as the suggestions match it), or
whoever may take it back does."""
from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from content import library
from content.db import LibraryError, write
from content.era.suggestions import has_title, library_titles
from content.text import clean_line
from content.timestamps import utc_iso

WORDS_MAX = 300


@dataclass(frozen=True)
class Wish:
    id: int
    resident_id: int
    title: str
    artist: str
    year: int | None
    asked_by: int | None
    by_role: str           # "staff" | "family"
    asked_at: str
    asker: str             # the asker's name, for staff's eyes

    @property
    def from_staff(self) -> bool:
        return self.by_role == "staff"

    def may_take_back(self, user) -> bool:
        return bool(user.is_staff or user.id == self.asked_by)


def _line(text: str | None) -> str:
    return clean_line(text, "song's name", WORDS_MAX)


def ask(db: sqlite_utils.Database, resident_id: int, title: str, artist: str = "", year: int | None = None, *,
        user_id: int | None, by_staff: bool) -> Wish:
    """Put a song on the resident's list to look for (once: asking again changes nothing)."""
    title, artist = _line(title), _line(artist)
    if not title:
        raise LibraryError("Which song? The title is missing.")
    with write(db):
        library.get_resident(db, resident_id)
        db.execute(
            "INSERT OR IGNORE INTO song_wishes (resident_id, title, artist, year, asked_by, by_role, asked_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [resident_id, title, artist, year, user_id, "staff" if by_staff else "family", utc_iso()])
        library.audit(db, "wish.add", user_id=user_id, resident_id=resident_id, detail={"title": title})
    return next(w for w in _all(db, resident_id) if (w.title, w.artist) == (title, artist))


def take_back(db: sqlite_utils.Database, resident_id: int, wish_id: int, user) -> bool:
    """False when there is no such wish for this resident, or it is not this person's to take back."""
    with write(db):
        wish = next((w for w in _all(db, resident_id) if w.id == wish_id), None)
        if wish is None or not wish.may_take_back(user):
            return False
        db.execute("DELETE FROM song_wishes WHERE id = ?", [wish_id])
        library.audit(db, "wish.remove", user_id=user.id, resident_id=resident_id, detail={"title": wish.title})
    return True


def _all(db: sqlite_utils.Database, resident_id: int) -> list[Wish]:
    rows = db.query(
        "SELECT w.*, COALESCE(NULLIF(u.display_name, ''), u.email, '') AS asker FROM song_wishes w "
        "LEFT JOIN users u ON u.id = w.asked_by WHERE w.resident_id = ? ORDER BY w.asked_at, w.id", [resident_id])
    return [Wish(**r) for r in rows]


def open_wishes(db: sqlite_utils.Database, resident_id: int) -> list[Wish]:
    """The songs still to find: those the resident's library does not have yet."""
    wishes = _all(db, resident_id)
    if not wishes:
        return []
    have = library_titles(db, resident_id)
    return [w for w in wishes if not has_title(have, w.title, normalised=False)]
