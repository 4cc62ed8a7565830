"""Deciding a song's original year, and remembering how it was decided.

Tags lie: a 2005 compilation of a 1942 song says 2005. The year used for the era weights
comes from, in order of trust:

1. ``family`` — a year a person entered. Never overwritten by anything automatic.
2. ``catalogue`` — a confident match in the bundled catalogue (its earliest year for the song),
   from the tags (artist, title) or else from the uploaded file's name.
3. ``tag`` — the year in the file's tags.
4. ``filename`` — a year in brackets in the file's name: "We'll Meet Again (1939).mp3".

Each decision is stored with a fingerprint of what it was based on (title, artist, tag year,
file name, catalogue version); when any of those changes the decision is stale and
`resolve_stale` (run by `python -m content years --fix`, or at start-up) makes it again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Iterable

import sqlite_utils

from content.db import LibraryError, write
from content.era.catalogue import from_entries
from content.era.match import Match, Matcher, default_matcher
from content.library import audit
from content.timestamps import utc_iso

log = logging.getLogger(__name__)
SOURCES = ("family", "catalogue", "tag", "filename")
EARLIEST_YEAR = 1850
_BRACKETED_YEAR = re.compile(r"[\(\[]\s*((?:18|19|20)\d\d)\s*[\)\]]")


@dataclass(frozen=True)
class Decision:
    """What a song's year should be, and why."""

    year: int | None
    source: str | None
    confidence: float | None
    match: Match | None
    basis: str


def _latest_year() -> int:
    return dt.date.today().year + 1


def _plausible(year: Any) -> int | None:
    try:
        year = int(year)
    except (TypeError, ValueError):
        return None
    return year if EARLIEST_YEAR <= year <= _latest_year() else None


def basis(song: dict[str, Any], matcher: Matcher) -> str:
    text = "\x1f".join(str(song.get(k) or "") for k in ("title", "artist", "tag_year", "original_name"))
    text += f"\x1f{matcher.catalogue.version}\x1f{matcher.threshold}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def filename_year(name: str) -> int | None:
    """A year on its own in brackets in a file name; "(Remastered 2005)" does not count."""
    found = _BRACKETED_YEAR.findall(PurePath(name or "").name)
    return _plausible(found[-1]) if found else None


def best_match(song: dict[str, Any], matcher: Matcher) -> Match | None:
    """The catalogue song this file is, judged from its tags and from its file name."""
    title, artist = (song.get("title") or "").strip(), (song.get("artist") or "").strip()
    options: list[Match | None] = []
    if title and title.casefold() != "untitled":
        options.append(matcher.best_pair(artist, title) if artist else matcher.best(title))
    name = PurePath(song.get("original_name") or "").name
    if name:
        options.append(matcher.best(name))
    found = [m for m in options if m is not None and m.score >= matcher.threshold]
    return max(found, key=lambda m: (m.score, -m.year)) if found else None


def decide(song: dict[str, Any], matcher: Matcher) -> Decision:
    """The automatic decision for a songs row (pure: reads nothing, writes nothing)."""
    fingerprint = basis(song, matcher)
    match = best_match(song, matcher)
    if match is not None:
        return Decision(match.year, "catalogue", match.score, match, fingerprint)
    tag = _plausible(song.get("tag_year"))
    if tag is not None:
        return Decision(tag, "tag", None, None, fingerprint)
    named = filename_year(song.get("original_name") or "")
    if named is not None:
        return Decision(named, "filename", None, None, fingerprint)
    return Decision(None, None, None, None, fingerprint)


def _song(db: sqlite_utils.Database, song_id: int) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM songs WHERE id = ?", [song_id]))
    if not rows:
        raise LibraryError(f"There is no song number {song_id}.")
    return rows[0]


def _matcher_or_fallback(matcher: Matcher | None) -> Matcher:
    """The bundled matcher; if the catalogue cannot be read, an empty one, so that an upload
    still goes in with its tag year (and is redone once the catalogue is back: the empty
    catalogue has its own version, so those decisions are stale)."""
    if matcher is not None:
        return matcher
    try:
        return default_matcher()
    except (OSError, ValueError, KeyError) as exc:
        log.error("The song catalogue could not be read (%s); using tag years for now.", exc)
        return Matcher(from_entries([], version="missing"))


def resolve_song(db: sqlite_utils.Database, song_id: int, *, matcher: Matcher | None = None) -> None:
    """Decide and store the song's year. Runs inside the caller's transaction when there is
    one (ingest calls it while adding the song). A family-entered year is left alone."""
    matcher = _matcher_or_fallback(matcher)
    with write(db):
        song = _song(db, song_id)
        if song.get("year_source") == "family":
            return
        _store(db, song, decide(song, matcher), matcher)


def _store(db: sqlite_utils.Database, song: dict[str, Any], d: Decision, matcher: Matcher) -> bool:
    """Write a decision; True when the song's year or source changed."""
    changed = (song.get("year"), song.get("year_source")) != (d.year, d.source)
    redone = db.execute("SELECT 1 FROM song_year_decisions WHERE song_id = ?", [song["id"]]).fetchone()
    db.execute("UPDATE songs SET year = ?, year_source = ?, year_confidence = ? WHERE id = ?",
               [d.year, d.source, d.confidence, song["id"]])
    m = d.match
    db.execute(
        """INSERT INTO song_year_decisions (song_id, basis, catalogue_version, match_title, match_artist,
               match_year, match_score, match_sources, decided_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(song_id) DO UPDATE SET basis = excluded.basis, catalogue_version = excluded.catalogue_version,
               match_title = excluded.match_title, match_artist = excluded.match_artist,
               match_year = excluded.match_year, match_score = excluded.match_score,
               match_sources = excluded.match_sources, decided_at = excluded.decided_at""",
        [song["id"], d.basis, matcher.catalogue.version, m and m.title, m and m.artist, m and m.year,
         m and m.score, m and m.source, utc_iso()],
    )
    if changed and redone:
        audit(db, "song.year", song_id=song["id"], detail={
            "from": [song.get("year"), song.get("year_source")], "to": [d.year, d.source]})
    return changed


def set_family_year(db: sqlite_utils.Database, song_id: int, year: int | str | None, user_id: int | None = None,
                    *, matcher: Matcher | None = None) -> None:
    """A person's word on the year (the admin's one-tap fix). None hands the song back to
    the automatic decision."""
    if year is None or (isinstance(year, str) and not year.strip()):
        with write(db):
            song = _song(db, song_id)
            db.execute("UPDATE songs SET year_source = NULL WHERE id = ?", [song_id])
            audit(db, "song.year", user_id=user_id, song_id=song_id,
                  detail={"from": [song["year"], song["year_source"]], "to": "automatic"})
            resolve_song(db, song_id, matcher=matcher)
        return
    checked = _plausible(year)
    if checked is None or str(year).strip() != str(checked):
        raise LibraryError(f"“{year}” does not look like a year; please enter four digits, "
                           f"from {EARLIEST_YEAR} to {_latest_year() - 1}.")
    with write(db):
        song = _song(db, song_id)
        db.execute("UPDATE songs SET year = ?, year_source = 'family', year_confidence = NULL WHERE id = ?",
                   [checked, song_id])
        audit(db, "song.year", user_id=user_id, song_id=song_id,
              detail={"from": [song["year"], song["year_source"]], "to": [checked, "family"]})


@dataclass(frozen=True)
class Review:
    """One song's stored year beside what an automatic decision would say now."""

    song_id: int
    title: str
    artist: str
    original_name: str
    year: int | None
    source: str | None
    confidence: float | None
    proposed: Decision
    stale: bool            # decided on other names or another catalogue, or never decided

    @property
    def would_change(self) -> bool:
        if self.source == "family":
            return False
        return (self.year, self.source) != (self.proposed.year, self.proposed.source)


def review(db: sqlite_utils.Database, song_ids: Iterable[int] | None = None, *,
           matcher: Matcher | None = None) -> list[Review]:
    matcher = _matcher_or_fallback(matcher)
    sql = """SELECT s.*, d.basis AS decided_basis FROM songs s
             LEFT JOIN song_year_decisions d ON d.song_id = s.id"""
    params: list[Any] = []
    if song_ids is not None:
        ids = list(song_ids)
        if not ids:
            return []
        sql += f" WHERE s.id IN ({', '.join('?' * len(ids))})"
        params = ids
    out = []
    for song in db.query(sql + " ORDER BY s.artist COLLATE NOCASE, s.title COLLATE NOCASE", params):
        d = decide(song, matcher)
        out.append(Review(
            song_id=song["id"], title=song["title"], artist=song["artist"], original_name=song["original_name"],
            year=song["year"], source=song["year_source"], confidence=song["year_confidence"], proposed=d,
            stale=song["year_source"] != "family" and song["decided_basis"] != d.basis,
        ))
    return out


def resolve_stale(db: sqlite_utils.Database, song_ids: Iterable[int] | None = None, *,
                  matcher: Matcher | None = None) -> list[Review]:
    """Redo every automatic decision that is stale or would now come out differently.
    Family years are never touched. Returns the songs whose year or source changed.
    Run it at start-up (it is quick when nothing changed) and from `years --fix`."""
    matcher = _matcher_or_fallback(matcher)
    changed = []
    with write(db):
        for r in review(db, song_ids, matcher=matcher):
            if r.source == "family" or not (r.stale or r.would_change):
                continue
            if _store(db, _song(db, r.song_id), r.proposed, matcher):
                changed.append(r)
    return changed
