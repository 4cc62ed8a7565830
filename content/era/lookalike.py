"""Is a newly added file perhaps the same song as one already there, in another recording
or rip? A fuzzy match over normalised "artist title", so that a family can spot doubles."""
from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils
from rapidfuzz import fuzz, process

from content.accounts import User
from content.era.normalise import normalise as era_normalise

THRESHOLD = 88


@dataclass(frozen=True)
class Lookalike:
    song_id: int
    title: str
    artist: str
    residents: tuple[str, ...]

    def sentence(self) -> str:
        by = f" by {self.artist}" if self.artist else ""
        whose = " and ".join(f"{n}'s" for n in self.residents)
        return f"This looks like “{self.title}”{by}, already in {whose} songs."


def normalise(artist: str, title: str) -> str:
    """The era engine's normal form: lower case, no accents, no "(Remastered 2005)",
    "feat. ...", track numbers or a leading "The"."""
    return era_normalise(f"{artist} - {title}" if artist else title)


def find_lookalikes(db: sqlite_utils.Database, user: User, resident_id: int, *, title: str, artist: str,
                    exclude_song_id: int | None = None, limit: int = 3) -> list[Lookalike]:
    """Songs the user may see (the resident's own, and other residents' they may see) that
    look like this one, each as its own resident's entry names it: one family never sees
    another's names for a song."""
    sql = ("SELECT rs.song_id AS id, rs.title, rs.artist, r.name AS names FROM resident_songs rs "
           "JOIN residents r ON r.id = rs.resident_id WHERE rs.song_id != ?")
    params: list = [exclude_song_id or -1]
    if not user.is_staff:
        sql += (" AND (rs.resident_id = ? OR rs.resident_id IN "
                "(SELECT resident_id FROM user_residents WHERE user_id = ?))")
        params += [resident_id, user.id]
    rows = list(db.query(sql, params))
    if not rows:
        return []
    wanted = normalise(artist, title)
    choices = [normalise(r["artist"], r["title"]) for r in rows]
    found = process.extract(wanted, choices, scorer=fuzz.token_sort_ratio, score_cutoff=THRESHOLD, limit=limit)
    return [Lookalike(song_id=rows[i]["id"], title=rows[i]["title"], artist=rows[i]["artist"],
                      residents=tuple(sorted(set(rows[i]["names"].split("|")))))
            for _, _, i in found]
