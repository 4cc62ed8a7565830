"""Songs from a resident's teenage years that are not in their library yet.

The reminiscence bump peaks in the teens, so these are the songs most likely to matter;
the admin lists them on the resident's page for the family to find and upload. Better
known songs (those more sources agree on: number ones, long-running lists) come first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
from rapidfuzz import fuzz, process

from content.era.catalogue import Catalogue
from content.era.match import Matcher, default_matcher
from content.era.normalise import normalise_title

TEEN_FROM, TEEN_TO = 13, 19
SAME_SONG = 90          # a library title this close to a catalogue title is that song, by anyone
# Sources that only list well-known recordings.
WELL_KNOWN = ("compiled-knowledge", "uk-number-ones", "whitburn-facts", "top2000", "fivethirtyeight-classic-rock")


@dataclass(frozen=True)
class Suggestions:
    year_from: int | None
    year_to: int | None
    songs: list[dict[str, Any]] = field(default_factory=list)   # title, artist, year


def _rank(cat: Catalogue, i: int, peak: int) -> tuple:
    e = cat.entries[i]
    sources = e.source.split(";") if e.source else []
    well_known = sum(1 for s in sources if s in WELL_KNOWN)
    return (-well_known, -len(sources), not e.artist, abs(e.year - peak), e.title.casefold(), i)


def library_titles(db: sqlite_utils.Database, resident_id: int) -> list[str]:
    """The resident's song titles (and the catalogue titles they matched), normalised, for
    `has_title`."""
    have = list(db.query(
        """SELECT rs.title, rs.artist, d.match_title, d.match_artist FROM resident_songs rs
           LEFT JOIN entry_year_decisions d ON d.resident_id = rs.resident_id AND d.song_id = rs.song_id
           WHERE rs.resident_id = ?""", [resident_id]))
    have_titles = []
    for h in have:
        for title in (h["title"], h["match_title"]):
            if title:
                full, short = normalise_title(title)
                have_titles += [full, short]
    return sorted(set(t for t in have_titles if t))


def has_title(have_titles: list[str], title: str, *, normalised: bool = True) -> bool:
    """Whether a library with these titles already has this song, by anyone."""
    if not normalised:
        title = normalise_title(title)[1]
    return bool(have_titles and title
                and process.extractOne(title, have_titles, scorer=fuzz.ratio, score_cutoff=SAME_SONG))


def era_suggestions(db: sqlite_utils.Database, resident_id: int, limit: int = 20, *,
                    matcher: Matcher | None = None) -> Suggestions:
    row = db.execute("SELECT birth_year FROM residents WHERE id = ?", [resident_id]).fetchone()
    if row is None or row[0] is None:
        return Suggestions(None, None, [])
    birth = int(row[0])
    year_from, year_to = birth + TEEN_FROM, birth + TEEN_TO
    matcher = matcher or default_matcher()
    cat = matcher.catalogue
    have_titles = library_titles(db, resident_id)
    in_range = [i for i, e in enumerate(cat.entries) if year_from <= e.year <= year_to]
    in_range.sort(key=lambda i: _rank(cat, i, birth + 15))
    songs: list[dict[str, Any]] = []
    seen_titles: set[str] = set()
    for i in in_range:
        if len(songs) >= limit:
            break
        title = cat.short_titles[i]
        # "Que Sera, Sera (Whatever Will Be, Will Be)" and "Whatever Will Be, Will Be (Que
        # Sera, Sera)" are one song: compare the short title and the words in any order.
        keys = {title, " ".join(sorted(cat.titles[i].split()))}
        if keys & seen_titles:
            continue
        if has_title(have_titles, title):
            continue
        seen_titles |= keys
        e = cat.entries[i]
        songs.append({"title": e.title, "artist": e.artist, "year": e.year})
    return Suggestions(year_from, year_to, songs)
