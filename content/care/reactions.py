"""Reactions: what staff and family see a song do, logged in one tap against the song playing
now or one of the last few plays.

Each reaction is a row with an id that never repeats (`uid`), so a reaction logged on a box
and sent to a hub, or the other way, is counted once however often it is sent. Its effect on
the queue is a tally on the resident's entry for the song (`reactions_positive`,
`reactions_negative`), kept here in the same transaction as the row: the kiosk reads the
tallies with the rest of the resident's library, and on a hub they travel to the box with it.
Two "upset" reactions to one song suggest to staff that it should never play again; that is
only a suggestion, and staff may decide to keep the song.
"""
from __future__ import annotations

import datetime as _dt
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlite_utils

from content import library
from content.db import LibraryError, write
from content.text import clean_line, one_of
from content.timestamps import utc_iso, utc_now

NOTE_MAX = 1000
UPSETS_TO_SUGGEST = 2          # "upset" this many times: suggest never play (DESIGN: care loop)
PLAYING_NOW_HOURS = 3          # an unfinished play older than this is not "playing now"
TARGETS = 5                    # the song playing now and the last few before it


class ReactionKind(StrEnum):
    """What a person saw. `positive` is the box's staff button: something good, not said what."""

    SMILED = "smiled"
    SANG_ALONG = "sang_along"
    MOVED = "moved"
    MEMORY = "memory"
    CALMER = "calmer"
    POSITIVE = "positive"
    UPSET = "upset"
    AGITATED = "agitated"
    WITHDRAWN = "withdrawn"
    ASKED_TO_STOP = "asked_to_stop"

    @property
    def positive(self) -> bool:
        return self in _POSITIVE

    @property
    def words(self) -> str:
        """The button's label."""
        return _WORDS[self][0]

    @property
    def past(self) -> str:
        """As in "Mary smiled"."""
        return _WORDS[self][1]


_POSITIVE = frozenset({ReactionKind.SMILED, ReactionKind.SANG_ALONG, ReactionKind.MOVED, ReactionKind.MEMORY,
                       ReactionKind.CALMER, ReactionKind.POSITIVE})
_WORDS = {
    ReactionKind.SMILED: ("Smiled", "smiled"),
    ReactionKind.SANG_ALONG: ("Sang along", "sang along"),
    ReactionKind.MOVED: ("Moved to the beat", "moved to the beat"),
    ReactionKind.MEMORY: ("Talked about a memory", "talked about a memory"),
    ReactionKind.CALMER: ("Calmer", "was calmer"),
    ReactionKind.POSITIVE: ("Something good", "enjoyed it (box button)"),
    ReactionKind.UPSET: ("Upset", "was upset"),
    ReactionKind.AGITATED: ("Agitated", "was agitated"),
    ReactionKind.WITHDRAWN: ("Withdrawn", "was withdrawn"),
    ReactionKind.ASKED_TO_STOP: ("Asked to stop", "asked to stop"),
}
# What the phone offers: the box's "something good" is for the box's button.
PHONE_POSITIVE = (ReactionKind.SMILED, ReactionKind.SANG_ALONG, ReactionKind.MOVED, ReactionKind.MEMORY,
                  ReactionKind.CALMER)
PHONE_NEGATIVE = (ReactionKind.UPSET, ReactionKind.AGITATED, ReactionKind.WITHDRAWN, ReactionKind.ASKED_TO_STOP)


class Source(StrEnum):
    """Where a reaction was logged."""

    PHONE = "phone"
    BOX = "box"
    PANEL = "panel"
    CLI = "cli"
    DEMO = "demo"


def kind_of(text: str) -> ReactionKind:
    return one_of(ReactionKind, text, f"“{text}” is not a reaction Evergreen knows.")


def clean_note(text: str | None) -> str:
    """A reaction's note is one line, as the care report shows it."""
    return clean_line(text, "note", NOTE_MAX)


@dataclass(frozen=True)
class Reaction:
    id: int
    uid: str
    resident_id: int
    song_id: int | None
    play_id: int | None
    user_id: int | None
    by_role: str | None
    at: str
    kind: ReactionKind
    note: str
    note_staff_only: bool
    source: str
    title: str | None = None
    artist: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Reaction":
        return cls(id=row["id"], uid=row["uid"], resident_id=row["resident_id"], song_id=row["song_id"],
                   play_id=row["play_id"], user_id=row["user_id"], by_role=row["by_role"], at=row["at"],
                   kind=ReactionKind(row["reaction"]), note=row["note"], note_staff_only=bool(row["note_staff_only"]),
                   source=row["source"], title=row.get("title"), artist=row.get("artist"))

    def visible_note(self, *, staff: bool) -> str:
        """Families read their own notes and the ones staff wrote for them, never staff-only ones."""
        return self.note if staff or not self.note_staff_only else ""


@dataclass(frozen=True)
class Target:
    """A song a reaction can be about: playing now, or one of the last few plays."""

    play_id: int | None
    song_id: int
    title: str
    artist: str
    started_at: str
    playing_now: bool


# A song's names are the resident's own entry's (the file's, if the resident no longer has it).
_SELECT = """SELECT r.*, COALESCE(rs.title, s.title) AS title, COALESCE(rs.artist, s.artist) AS artist
FROM reactions r LEFT JOIN songs s ON s.id = r.song_id
LEFT JOIN resident_songs rs ON rs.song_id = r.song_id AND rs.resident_id = r.resident_id"""


def get(db: sqlite_utils.Database, reaction_id: int, resident_id: int) -> Reaction | None:
    rows = list(db.query(f"{_SELECT} WHERE r.id = ? AND r.resident_id = ?", [reaction_id, resident_id]))
    return Reaction.from_row(rows[0]) if rows else None


def by_uid(db: sqlite_utils.Database, uid: str) -> Reaction | None:
    rows = list(db.query(f"{_SELECT} WHERE r.uid = ?", [uid]))
    return Reaction.from_row(rows[0]) if rows else None


def targets(db: sqlite_utils.Database, resident_id: int, *, now: _dt.datetime | None = None,
            limit: int = TARGETS) -> list[Target]:
    """The song playing for the resident now (if any) and the songs of their last plays,
    newest first, each song once."""
    now = now or utc_now()
    recent_enough = utc_iso(now - _dt.timedelta(hours=PLAYING_NOW_HOURS))
    rows = db.execute(
        """SELECT p.id, p.song_id, COALESCE(rs.title, s.title), COALESCE(rs.artist, s.artist), p.started_at,
                  p.ended_at
           FROM plays p JOIN songs s ON s.id = p.song_id
           LEFT JOIN resident_songs rs ON rs.song_id = p.song_id AND rs.resident_id = p.resident_id
           WHERE p.resident_id = ? ORDER BY p.started_at DESC, p.id DESC LIMIT ?""",
        [resident_id, limit * 4]).fetchall()
    found: list[Target] = []
    seen: set[int] = set()
    for play_id, song_id, title, artist, started, ended in rows:
        if song_id in seen:
            continue
        seen.add(song_id)
        now_playing = not found and ended is None and started >= recent_enough
        found.append(Target(play_id, song_id, title, artist or "", started, now_playing))
        if len(found) == limit:
            break
    return found


def _song_of_play(db: sqlite_utils.Database, resident_id: int, play_id: int) -> int | None:
    row = db.execute("SELECT song_id FROM plays WHERE id = ? AND resident_id = ?", [play_id, resident_id]).fetchone()
    if row is None:
        raise LibraryError("That play is not in this resident's history.")
    return row[0]


def _check_song(db: sqlite_utils.Database, resident_id: int, song_id: int) -> None:
    """A reaction is about one of the resident's songs, or a song that played for them
    (decade radio can play another resident's song)."""
    if db.execute("SELECT 1 FROM resident_songs WHERE resident_id = ? AND song_id = ?",
                  [resident_id, song_id]).fetchone():
        return
    if db.execute("SELECT 1 FROM plays WHERE resident_id = ? AND song_id = ? LIMIT 1",
                  [resident_id, song_id]).fetchone():
        return
    raise LibraryError("That song is not in this resident's library.")


def _tally(db: sqlite_utils.Database, resident_id: int, song_id: int | None, kind: ReactionKind, step: int) -> None:
    if song_id is None:
        return
    column = "reactions_positive" if kind.positive else "reactions_negative"
    db.execute(f"UPDATE resident_songs SET {column} = MAX(0, {column} + ?) WHERE resident_id = ? AND song_id = ?",
               [step, resident_id, song_id])


def new_uid() -> str:
    return secrets.token_hex(16)


def record(
    db: sqlite_utils.Database,
    resident_id: int,
    kind: ReactionKind | str,
    *,
    song_id: int | None = None,
    play_id: int | None = None,
    user_id: int | None = None,
    by_role: str | None = None,
    note: str = "",
    note_staff_only: bool = False,
    source: Source | str = Source.PHONE,
    at: str | None = None,
    uid: str | None = None,
) -> Reaction | None:
    """Log one reaction and count it on the song. With a `uid` that was already recorded
    (the same reaction arriving again), nothing changes and None is returned."""
    kind = kind if isinstance(kind, ReactionKind) else kind_of(kind)
    note = clean_note(note)
    if by_role not in (None, "staff", "family"):
        raise LibraryError("A reaction is logged by staff or family.")
    with write(db):
        if play_id is not None:
            played = _song_of_play(db, resident_id, play_id)
            if song_id is not None and played != song_id:
                raise LibraryError("That play was of another song.")
            song_id = played
        elif song_id is not None:
            _check_song(db, resident_id, song_id)
        uid = uid or new_uid()
        cur = db.execute(
            "INSERT OR IGNORE INTO reactions (uid, resident_id, song_id, play_id, user_id, by_role, at, reaction, "
            "note, note_staff_only, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [uid, resident_id, song_id, play_id, user_id, by_role, at or utc_iso(), str(kind), note,
             int(bool(note) and note_staff_only), str(source)])
        if cur.rowcount != 1:
            return None
        _tally(db, resident_id, song_id, kind, +1)
        return get(db, int(cur.lastrowid), resident_id)


def may_change(reaction: Reaction, *, user_id: int, staff: bool) -> bool:
    """Staff may correct any reaction; a family member only their own."""
    return staff or (reaction.user_id is not None and reaction.user_id == user_id)


def _changeable(db: sqlite_utils.Database, resident_id: int, reaction_id: int, *, user_id: int, staff: bool,
                what: str) -> Reaction:
    found = get(db, reaction_id, resident_id)
    if found is None:
        raise LibraryError("That reaction is not in this resident's log.")
    if not may_change(found, user_id=user_id, staff=staff):
        raise LibraryError(f"Only staff, or the person who logged it, can {what}.")
    return found


def remove(db: sqlite_utils.Database, resident_id: int, reaction_id: int, *, user_id: int, staff: bool) -> Reaction:
    """Take back a reaction logged by mistake, and its count on the song."""
    with write(db):
        found = _changeable(db, resident_id, reaction_id, user_id=user_id, staff=staff, what="take a reaction back")
        db.execute("DELETE FROM reactions WHERE id = ?", [reaction_id])
        _tally(db, resident_id, found.song_id, found.kind, -1)
    return found


def set_note(db: sqlite_utils.Database, resident_id: int, reaction_id: int, note: str, *, user_id: int,
             staff: bool, staff_only: bool = False) -> Reaction:
    note = clean_note(note)
    with write(db):
        _changeable(db, resident_id, reaction_id, user_id=user_id, staff=staff, what="change its note")
        db.execute("UPDATE reactions SET note = ?, note_staff_only = ? WHERE id = ?",
                   [note, int(bool(note) and staff and staff_only), reaction_id])
        return get(db, reaction_id, resident_id)


def recent(db: sqlite_utils.Database, resident_id: int, *, limit: int = 10) -> list[Reaction]:
    return [Reaction.from_row(r) for r in db.query(
        f"{_SELECT} WHERE r.resident_id = ? ORDER BY r.at DESC, r.id DESC LIMIT ?", [resident_id, limit])]


def in_period(db: sqlite_utils.Database, resident_id: int, start: str, end: str) -> list[Reaction]:
    """Reactions logged from `start` up to (not including) `end`, oldest first."""
    return [Reaction.from_row(r) for r in db.query(
        f"{_SELECT} WHERE r.resident_id = ? AND r.at >= ? AND r.at < ? ORDER BY r.at, r.id",
        [resident_id, start, end])]


@dataclass(frozen=True)
class NeverPlaySuggestion:
    song_id: int
    title: str
    artist: str
    upsets: int
    last: str


def never_play_suggestions(db: sqlite_utils.Database, resident_id: int) -> list[NeverPlaySuggestion]:
    """Songs still allowed to play that upset the resident at least twice since staff last
    decided to keep them: a suggestion for staff, never applied by itself."""
    return [NeverPlaySuggestion(*row) for row in db.execute(
        """SELECT rs.song_id, rs.title, rs.artist, COUNT(*), MAX(r.at)
           FROM reactions r JOIN resident_songs rs ON rs.resident_id = r.resident_id AND rs.song_id = r.song_id
           WHERE r.resident_id = ? AND r.reaction = ? AND rs.never_play = 0
             AND (rs.upset_reviewed_at IS NULL OR r.at > rs.upset_reviewed_at)
           GROUP BY rs.song_id HAVING COUNT(*) >= ? ORDER BY MAX(r.at) DESC""",
        [resident_id, str(ReactionKind.UPSET), UPSETS_TO_SUGGEST]).fetchall()]


def keep_playing(db: sqlite_utils.Database, resident_id: int, song_id: int, *, user_id: int | None = None) -> None:
    """Staff looked at the upsets and decided the song stays: stop suggesting it until the
    next upsets."""
    with write(db):
        cur = db.execute("UPDATE resident_songs SET upset_reviewed_at = ? WHERE resident_id = ? AND song_id = ?",
                         [utc_iso(), resident_id, song_id])
        if cur.rowcount != 1:
            raise LibraryError("That song is not in this resident's library.")
        library.audit(db, "song.keep_after_upsets", user_id=user_id, resident_id=resident_id, song_id=song_id)


# --- travelling between a box and a hub ------------------------------------------------

PAYLOAD_FIELDS = ("resident_id", "song_id", "at", "reaction", "note", "note_staff_only", "source", "by_role")


def to_payload(reaction: Reaction) -> dict[str, Any]:
    """What an outbox sends; the item's own id is the reaction's uid."""
    return {"resident_id": reaction.resident_id, "song_id": reaction.song_id, "at": reaction.at,
            "reaction": str(reaction.kind), "note": reaction.note, "note_staff_only": reaction.note_staff_only,
            "source": reaction.source, "by_role": reaction.by_role}


def receive(db: sqlite_utils.Database, uid: str, payload: dict[str, Any], *, resident_id: int) -> bool:
    """Take a reaction sent from the other side (the caller has checked that `resident_id`
    is one the sender may speak for). True when it was new; the same uid again changes
    nothing. Plays have other ids on the other side, so a received reaction names its song
    only."""
    song_id = payload.get("song_id")
    if not isinstance(song_id, int) or not db.execute("SELECT 1 FROM songs WHERE id = ?", [song_id]).fetchone():
        song_id = None
    at = payload.get("at")
    if not isinstance(at, str) or len(at) > 40:
        raise LibraryError("A reaction without a time cannot be taken.")
    source = payload.get("source") if payload.get("source") in {str(s) for s in Source} else str(Source.BOX)
    with write(db):
        if song_id is not None and not db.execute(
                "SELECT 1 FROM resident_songs WHERE resident_id = ? AND song_id = ?", [resident_id, song_id]).fetchone():
            song_id = None
        return record(db, resident_id, str(payload.get("reaction", "")), song_id=song_id,
                      note=str(payload.get("note") or ""), note_staff_only=bool(payload.get("note_staff_only")),
                      by_role=payload.get("by_role") if payload.get("by_role") in ("staff", "family") else None,
                      source=source, at=at, uid=uid) is not None
