"""The music detective: each of a resident's songs is *trying* (still finding out), a
*keeper* (it helps) or *dropped* (it does not help, and is left out of the music).

Staff and family set the status; Evergreen suggests one from what happened: positive and
negative reactions, how often the song played and how often it was skipped in its first
seconds. The review lists the songs that need a person's eye: suggested changes, songs that
play often and never help, songs skipped early, and songs from the resident's teenage years
that have not been tried yet. Suggestions are pure (`suggest`), so the rules are tested
with plain values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import sqlite_utils

from content import library
from content.care.reactions import ReactionKind
from content.db import LibraryError, write
from content.text import one_of
from content.plays import PlayEnd
from content.timestamps import utc_iso


class Detective(StrEnum):
    TRYING = "trying"
    KEEPER = "keeper"
    DROPPED = "dropped"

    @property
    def words(self) -> str:
        return {Detective.TRYING: "Trying", Detective.KEEPER: "Keeper", Detective.DROPPED: "Dropped"}[self]

    @property
    def explained(self) -> str:
        return {Detective.TRYING: "still finding out", Detective.KEEPER: "it helps: keep playing it",
                Detective.DROPPED: "it does not help: left out of the music"}[self]


def status_of(text: str) -> Detective:
    return one_of(Detective, text, f"“{text}” is not trying, keeper or dropped.")


@dataclass(frozen=True)
class Rules:
    """When Evergreen suggests a change (all counts for this resident)."""

    keeper_positives: int = 2        # this many positive reactions, and at least twice the negatives
    dropped_negatives: int = 2       # this many negative reactions and no positive one
    often_plays: int = 5             # "plays often": at least this many plays...
    skipped_early: int = 3           # ...with this many early skips and no positive reaction: suggest dropped
    early_skip_seconds: float = 20.0


@dataclass(frozen=True)
class Evidence:
    """One song's record for one resident."""

    song_id: int
    title: str
    artist: str
    year: int | None
    status: Detective
    favourite: bool
    plays: int = 0
    early_skips: int = 0
    positive: int = 0
    negative: int = 0
    last_played: str | None = None


def suggest(e: Evidence, rules: Rules = Rules()) -> Detective | None:
    """The status the record points to, when it differs from the current one."""
    if e.positive >= rules.keeper_positives and e.positive >= 2 * e.negative:
        wanted = Detective.KEEPER
    elif e.positive == 0 and (e.negative >= rules.dropped_negatives
                              or (e.plays >= rules.often_plays and e.early_skips >= rules.skipped_early)):
        wanted = Detective.DROPPED
    else:
        return None
    return wanted if wanted != e.status else None


def set_status(db: sqlite_utils.Database, resident_id: int, song_id: int, status: Detective | str, *,
               user_id: int | None = None, by_role: str | None = None) -> None:
    status = status if isinstance(status, Detective) else status_of(status)
    with write(db):
        cur = db.execute(
            "UPDATE resident_songs SET detective = ?, detective_at = ?, detective_by_role = ? "
            "WHERE resident_id = ? AND song_id = ?",
            [str(status), utc_iso(), by_role if by_role in ("staff", "family") else None, resident_id, song_id])
        if cur.rowcount != 1:
            raise LibraryError("That song is not in this resident's library.")
        library.audit(db, "song.detective", user_id=user_id, resident_id=resident_id, song_id=song_id,
                      detail={"status": str(status)})


def evidence(db: sqlite_utils.Database, resident_id: int, *, rules: Rules = Rules()) -> list[Evidence]:
    """Every song of the resident that may play, with its record. Reactions are counted
    from the rows (complete wherever the admin runs), plays from the play history."""
    rows = db.execute(
        """SELECT s.id, rs.title, rs.artist, rs.year, rs.detective, rs.favourite,
                  (SELECT COUNT(*) FROM plays p WHERE p.song_id = s.id AND +p.resident_id = :rid),
                  (SELECT COUNT(*) FROM plays p WHERE p.song_id = s.id AND +p.resident_id = :rid
                       AND p.ended_how IN (:skip1, :skip2) AND p.seconds_heard < :early),
                  (SELECT MAX(started_at) FROM plays p WHERE p.song_id = s.id AND +p.resident_id = :rid)
           FROM resident_songs rs JOIN songs s ON s.id = rs.song_id
           WHERE rs.resident_id = :rid AND rs.never_play = 0
           ORDER BY rs.artist COLLATE NOCASE, rs.title COLLATE NOCASE""",
        {"rid": resident_id, "early": rules.early_skip_seconds, "skip1": PlayEnd.NEXT, "skip2": PlayEnd.PREVIOUS}).fetchall()
    counts: dict[int, list[int]] = {}
    for song_id, kind, n in db.execute(
            "SELECT song_id, reaction, COUNT(*) FROM reactions WHERE resident_id = ? AND song_id IS NOT NULL "
            "GROUP BY song_id, reaction", [resident_id]):
        try:
            positive = ReactionKind(kind).positive
        except ValueError:
            continue
        counts.setdefault(song_id, [0, 0])[0 if positive else 1] += n
    return [Evidence(song_id=r[0], title=r[1], artist=r[2] or "", year=r[3], status=Detective(r[4]),
                     favourite=bool(r[5]), plays=r[6], early_skips=r[7], last_played=r[8],
                     positive=counts.get(r[0], [0, 0])[0], negative=counts.get(r[0], [0, 0])[1])
            for r in rows]


@dataclass(frozen=True)
class Review:
    counts: dict[Detective, int]
    suggestions: list[tuple[Evidence, Detective]] = field(default_factory=list)
    no_help: list[Evidence] = field(default_factory=list)          # plays often, never a positive reaction
    skipped: list[Evidence] = field(default_factory=list)          # skipped early again and again
    untried_teens: list[Evidence] = field(default_factory=list)    # teenage years, never played


TEEN_FROM, TEEN_TO = 13, 19


def review(db: sqlite_utils.Database, resident_id: int, *, rules: Rules = Rules()) -> Review:
    songs = evidence(db, resident_id, rules=rules)
    counts = {d: 0 for d in Detective}
    for e in songs:
        counts[e.status] += 1
    birth = library.get_resident(db, resident_id).birth_year
    live = [e for e in songs if e.status is not Detective.DROPPED]
    return Review(
        counts=counts,
        suggestions=[(e, s) for e in songs if (s := suggest(e, rules)) is not None],
        no_help=sorted((e for e in live if e.plays >= rules.often_plays and e.positive == 0),
                       key=lambda e: -e.plays),
        skipped=sorted((e for e in live if e.early_skips >= 2), key=lambda e: -e.early_skips),
        untried_teens=[e for e in songs if e.plays == 0 and birth is not None and e.year is not None
                       and TEEN_FROM <= e.year - birth <= TEEN_TO],
    )


def counts(db: sqlite_utils.Database, resident_id: int) -> dict[Detective, int]:
    found = {d: 0 for d in Detective}
    for status, n in db.execute("SELECT detective, COUNT(*) FROM resident_songs WHERE resident_id = ? "
                                "AND never_play = 0 GROUP BY detective", [resident_id]):
        found[Detective(status)] = n
    return found
