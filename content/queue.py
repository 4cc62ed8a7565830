"""Building a resident's play order: the interface between the library and the kiosk.

The kiosk calls `next_songs` whenever it needs more songs. That reads what the weighting
needs from the library and hands it to `build_queue`, which is pure (no database, no
clock, no global random), so the order can be tested with a seeded Random.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Sequence

import sqlite_utils


@dataclass(frozen=True)
class Candidate:
    """A song the resident may hear, with what the weighting needs to know about it."""

    song_id: int
    title: str
    artist: str
    year: int | None
    favourite: bool = False
    never_play: bool = False
    unplayable: bool = False
    early_skips: int = 0            # times skipped within the first 20 s
    last_played_s_ago: float | None = None


@dataclass(frozen=True)
class QueueContext:
    birth_year: int | None = None
    recent: Sequence[int] = field(default_factory=tuple)   # song ids, most recent last
    decade: int | None = None                              # decade radio: 1950 for the 1950s
    fallback: Sequence[Candidate] = field(default_factory=tuple)  # other residents' songs, to top up decade radio


FAVOURITE_WEIGHT = 3.0


def playable(candidates: Sequence[Candidate]) -> list[Candidate]:
    return [c for c in candidates if not c.never_play and not c.unplayable]


def build_queue(
    candidates: Sequence[Candidate],
    context: QueueContext,
    rng: random.Random,
    length: int = 20,
) -> list[int]:
    """A weighted shuffle: favourites come up more often, never-play songs never,
    and no song plays twice in a row (including straight after the last one heard)."""
    pool = playable(candidates)
    if context.decade is not None:
        pool = [c for c in pool if c.year is not None and context.decade <= c.year < context.decade + 10]
    if not pool:
        return []
    weights = [FAVOURITE_WEIGHT if c.favourite else 1.0 for c in pool]
    order: list[int] = []
    last = context.recent[-1] if context.recent else None
    for _ in range(length):
        choices = [(c, w) for c, w in zip(pool, weights) if c.song_id != last] or list(zip(pool, weights))
        pick = rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]
        order.append(pick.song_id)
        last = pick.song_id
    return order


def candidates(db: sqlite_utils.Database, resident_id: int, *, now: float | None = None) -> list[Candidate]:
    """The resident's songs with their play history, as the weighting needs them."""
    now = time.time() if now is None else now
    rows = db.query(
        """
        SELECT s.id, s.title, s.artist, s.year, s.unplayable, rs.favourite, rs.never_play,
               (SELECT COUNT(*) FROM plays p WHERE p.song_id = s.id AND p.resident_id = rs.resident_id
                  AND p.ended_how IN ('next', 'previous') AND p.seconds_heard < 20) AS early_skips,
               (SELECT MAX(started_at) FROM plays p WHERE p.song_id = s.id AND p.resident_id = rs.resident_id) AS last
        FROM resident_songs rs JOIN songs s ON s.id = rs.song_id
        WHERE rs.resident_id = ?
        """,
        [resident_id],
    )
    out = []
    for r in rows:
        last = r["last"]
        ago = None
        if last:
            ago = max(0.0, now - _parse_ts(last))
        out.append(Candidate(
            song_id=r["id"], title=r["title"], artist=r["artist"], year=r["year"],
            favourite=bool(r["favourite"]), never_play=bool(r["never_play"]),
            unplayable=bool(r["unplayable"]), early_skips=r["early_skips"], last_played_s_ago=ago,
        ))
    return out


def next_songs(
    db: sqlite_utils.Database,
    resident_id: int,
    rng: random.Random,
    *,
    recent: Sequence[int] = (),
    decade: int | None = None,
    length: int = 20,
) -> list[int]:
    """What the kiosk calls: the next `length` song ids for this resident (may be empty)."""
    birth = db.execute("SELECT birth_year FROM residents WHERE id = ?", [resident_id]).fetchone()
    context = QueueContext(birth_year=birth[0] if birth else None, recent=tuple(recent), decade=decade)
    return build_queue(candidates(db, resident_id), context, rng, length)


def _parse_ts(ts: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
