"""Deciding a song's original year for one resident's entry, and remembering how.

Tags lie: a 2005 compilation of a 1942 song says 2005. The year used for the era weights
is decided for each resident's entry (resident_songs), from its own title and artist (what
that resident's family or staff call the song) and what the file says, in order of trust:

1. ``family`` — a year a person entered. Never overwritten by anything automatic.
2. ``catalogue`` — a confident match in the bundled catalogue (its earliest year for the song),
   from the entry's names (artist, title) or else from the uploaded file's name.
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


_ENTRY_SQL = """SELECT rs.resident_id, rs.song_id, rs.title, rs.artist, rs.year, rs.year_source,
       rs.year_confidence, s.tag_year, s.original_name
FROM resident_songs rs JOIN songs s ON s.id = rs.song_id"""


def _entry(db: sqlite_utils.Database, resident_id: int, song_id: int) -> dict[str, Any]:
    rows = list(db.query(_ENTRY_SQL + " WHERE rs.resident_id = ? AND rs.song_id = ?", [resident_id, song_id]))
    if not rows:
        raise LibraryError("That song is not in this resident's library.")
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


def resolve_entry(db: sqlite_utils.Database, resident_id: int, song_id: int, *,
                  matcher: Matcher | None = None) -> None:
    """Decide and store the year of a resident's entry. Runs inside the caller's transaction
    when there is one (ingest calls it while adding the song). A family year is left alone."""
    matcher = _matcher_or_fallback(matcher)
    with write(db):
        entry = _entry(db, resident_id, song_id)
        if entry.get("year_source") == "family":
            return
        _store(db, entry, decide(entry, matcher), matcher)


def _store(db: sqlite_utils.Database, entry: dict[str, Any], d: Decision, matcher: Matcher) -> bool:
    """Write a decision; True when the entry's year or source changed."""
    key = [entry["resident_id"], entry["song_id"]]
    changed = (entry.get("year"), entry.get("year_source")) != (d.year, d.source)
    redone = db.execute("SELECT 1 FROM entry_year_decisions WHERE resident_id = ? AND song_id = ?", key).fetchone()
    db.execute("UPDATE resident_songs SET year = ?, year_source = ?, year_confidence = ? "
               "WHERE resident_id = ? AND song_id = ?", [d.year, d.source, d.confidence, *key])
    m = d.match
    db.execute(
        """INSERT INTO entry_year_decisions (resident_id, song_id, basis, catalogue_version, match_title,
               match_artist, match_year, match_score, match_sources, decided_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(resident_id, song_id) DO UPDATE SET basis = excluded.basis,
               catalogue_version = excluded.catalogue_version, match_title = excluded.match_title,
               match_artist = excluded.match_artist, match_year = excluded.match_year,
               match_score = excluded.match_score, match_sources = excluded.match_sources,
               decided_at = excluded.decided_at""",
        [*key, d.basis, matcher.catalogue.version, m and m.title, m and m.artist, m and m.year,
         m and m.score, m and m.source, utc_iso()],
    )
    if changed and redone:
        audit(db, "song.year", resident_id=entry["resident_id"], song_id=entry["song_id"], detail={
            "from": [entry.get("year"), entry.get("year_source")], "to": [d.year, d.source]})
    return changed


def set_family_year(db: sqlite_utils.Database, resident_id: int, song_id: int, year: int | str | None,
                    user_id: int | None = None, *, matcher: Matcher | None = None) -> None:
    """A person's word on the year of their resident's entry (the admin's one-tap fix).
    None hands the entry back to the automatic decision."""
    if year is None or (isinstance(year, str) and not year.strip()):
        with write(db):
            entry = _entry(db, resident_id, song_id)
            db.execute("UPDATE resident_songs SET year_source = NULL WHERE resident_id = ? AND song_id = ?",
                       [resident_id, song_id])
            audit(db, "song.year", user_id=user_id, resident_id=resident_id, song_id=song_id,
                  detail={"from": [entry["year"], entry["year_source"]], "to": "automatic"})
            resolve_entry(db, resident_id, song_id, matcher=matcher)
        return
    checked = _plausible(year)
    if checked is None or str(year).strip() != str(checked):
        raise LibraryError(f"“{year}” is not a year we can read; please write it as four digits, "
                           f"from {EARLIEST_YEAR} to {_latest_year() - 1}.")
    with write(db):
        entry = _entry(db, resident_id, song_id)
        db.execute("UPDATE resident_songs SET year = ?, year_source = 'family', year_confidence = NULL "
                   "WHERE resident_id = ? AND song_id = ?", [checked, resident_id, song_id])
        audit(db, "song.year", user_id=user_id, resident_id=resident_id, song_id=song_id,
              detail={"from": [entry["year"], entry["year_source"]], "to": [checked, "family"]})


@dataclass(frozen=True)
class Review:
    """One entry's stored year beside what an automatic decision would say now."""

    resident_id: int
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


def review(db: sqlite_utils.Database, resident_id: int | None = None, *,
           matcher: Matcher | None = None) -> list[Review]:
    """Every entry (or one resident's) with the decision it would get now."""
    matcher = _matcher_or_fallback(matcher)
    sql = _ENTRY_SQL.replace("FROM resident_songs rs", ", d.basis AS decided_basis FROM resident_songs rs") + \
        " LEFT JOIN entry_year_decisions d ON d.resident_id = rs.resident_id AND d.song_id = rs.song_id"
    params: list[Any] = []
    if resident_id is not None:
        sql += " WHERE rs.resident_id = ?"
        params = [resident_id]
    out = []
    for entry in db.query(sql + " ORDER BY rs.artist COLLATE NOCASE, rs.title COLLATE NOCASE, rs.resident_id", params):
        d = decide(entry, matcher)
        out.append(Review(
            resident_id=entry["resident_id"], song_id=entry["song_id"], title=entry["title"], artist=entry["artist"],
            original_name=entry["original_name"], year=entry["year"], source=entry["year_source"],
            confidence=entry["year_confidence"], proposed=d,
            stale=entry["year_source"] != "family" and entry["decided_basis"] != d.basis,
        ))
    return out


def resolve_stale(db: sqlite_utils.Database, resident_id: int | None = None, *,
                  matcher: Matcher | None = None) -> list[Review]:
    """Redo every automatic decision that is stale or would now come out differently.
    Family years are never touched. Returns the entries whose year or source changed.
    Run it at start-up (it is quick when nothing changed) and from `years --fix`."""
    matcher = _matcher_or_fallback(matcher)
    changed = []
    with write(db):
        for r in review(db, resident_id, matcher=matcher):
            if r.source == "family" or not (r.stale or r.would_change):
                continue
            if _store(db, _entry(db, r.resident_id, r.song_id), r.proposed, matcher):
                changed.append(r)
    return changed
