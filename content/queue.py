"""Building a resident's play order: the interface between the library and the kiosk.

The kiosk calls `build_queue` whenever it needs more songs. It is pure (no database,
no clock, no global random): everything it needs comes in as arguments, so it can be
tested with a seeded Random. The era engine supplies the weighting behind it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Sequence


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
