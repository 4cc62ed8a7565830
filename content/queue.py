"""Building a resident's play order: the interface between the library and the kiosk.

The kiosk calls `next_songs` whenever it needs more songs. That reads what the weighting
needs from the library (the resident's songs and play history, the era weights from
settings, and for decade radio other residents' songs of that decade) and hands it to
`build_queue`, which is pure (no database, no clock, no global random), so the order can be
tested with a seeded Random.

The order is a weighted shuffle. A song's weight is its era weight (the resident's age
when it came out, see `content.era.weights`), boosted when it is a favourite or a music
detective's keeper, lifted by positive reactions and sunk by negative ones, sunk when it
has been skipped early again and again, and lowered for a while after it played. Never-play
and unplayable songs never come up, dropped songs only when nothing else could play, no
song comes back within a few songs, and the same artist never plays twice in a row when
anyone else is available.

A time of day (`content.care.modes`) narrows the choice to the songs that fit it (calm,
steady beat, or calming keepers before a care task), with the resident's favourites and
keepers among them first, and widens it step by step when too few fit.
"""
from __future__ import annotations

import bisect
import dataclasses
import itertools
import random
import time
from dataclasses import dataclass, field
from typing import Sequence

import sqlite_utils

from content import sound
from content.care.detective import Detective
from content.care import modes as care_modes
from content.care.modes import Mode, Pace, fits
from content.era import weights as era_weights
from content.era.weights import EraWeights
from content.plays import SKIPS
from content.timestamps import parse_utc


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
    positive: int = 0               # reactions seen while it played
    negative: int = 0
    detective: str = Detective.TRYING
    feel: str | None = None         # a person's mark: calm or steady
    tempo: float | None = None      # beats per minute, when the library knows it

    @property
    def cherished(self) -> bool:
        """Personal meaning: a favourite or a keeper comes first within a mode."""
        return self.favourite or self.detective == Detective.KEEPER


@dataclass(frozen=True)
class QueueContext:
    birth_year: int | None = None
    recent: Sequence[int] = field(default_factory=tuple)   # song ids, most recent last
    decade: int | None = None                              # decade radio: 1950 for the 1950s
    fallback: Sequence[Candidate] = field(default_factory=tuple)  # other residents' songs, to top up decade radio
    weights: EraWeights = field(default_factory=EraWeights)
    mode: Mode = Mode.USUAL
    pace: Pace = field(default_factory=Pace)


def playable(candidates: Sequence[Candidate]) -> list[Candidate]:
    return [c for c in candidates if not c.never_play and not c.unplayable]


def not_dropped(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Dropped songs stay out, unless every song is dropped: music nobody chose is better
    than a box that seems broken."""
    kept = [c for c in candidates if c.detective != Detective.DROPPED]
    return kept or list(candidates)


def in_decade(year: int | None, decade: int) -> bool:
    return year is not None and decade <= year < decade + 10


def song_weight(c: Candidate, context: QueueContext) -> float:
    """How likely this song is to come up next, relative to the others."""
    w = context.weights
    weight = w.era_weight(c.year, context.birth_year)
    if c.favourite:
        weight *= w.favourite_boost
    if c.detective == Detective.KEEPER:
        weight *= w.keeper_boost
    if c.positive > 0:
        weight *= min(w.positive_lift_most, 1 + w.positive_lift * c.positive)
    if c.negative > 0:
        weight *= max(w.negative_sink_most, w.negative_sink ** c.negative)
    if w.early_skips_to_sink and c.early_skips >= w.early_skips_to_sink:
        weight *= w.sunk_factor
    return weight * w.rest(c.last_played_s_ago)


def mode_pool(own: Sequence[Candidate], context: QueueContext) -> list[Candidate]:
    """The songs a mode plays from, widened in steps until at least `mode_min_songs` are in:
    first the songs known to fit (for a care task, the cherished ones among them), then
    songs nobody has marked and whose tempo is not known, and only when none of those
    exist, everything. A song known not to fit (a lively song in a calm evening) comes in
    only then."""
    mode = Mode.CALM if context.mode is Mode.CARE_TASK else context.mode
    w = context.weights

    def fit(c: Candidate) -> bool | None:
        return fits(mode, c.feel, c.tempo, pace=context.pace, calm_max_bpm=w.calm_max_bpm)

    known = [c for c in own if fit(c) is True]
    unknown = [c for c in own if fit(c) is None]
    if context.mode is Mode.CARE_TASK:
        steps = [[c for c in known if c.cherished], [c for c in known if not c.cherished],
                 [c for c in unknown if c.cherished], [c for c in unknown if not c.cherished]]
    else:
        steps = [known, unknown]
    pool: list[Candidate] = []
    for step in steps:
        if len(pool) >= w.mode_min_songs:
            break
        pool.extend(step)
    return pool or list(own)


def _opening(pool: Sequence[Candidate], context: QueueContext, rng: random.Random) -> list[int]:
    """The songs a mode starts with: the resident's favourites and keepers among the pool, in
    a weighted random order (for a steady beat, the one nearest their own pace first)."""
    cherished = [c for c in pool if c.cherished]
    if context.mode is Mode.STEADY:
        timed = [c for c in (cherished or pool) if c.tempo]
        if timed:
            nearest = min(timed, key=lambda c: abs(c.tempo - context.pace.pace))
            rest = [c for c in cherished if c.song_id != nearest.song_id]
            return [nearest.song_id] + _weighted_order(rest, context, rng)
    return _weighted_order(cherished, context, rng)


def _weighted_order(pool: Sequence[Candidate], context: QueueContext, rng: random.Random) -> list[int]:
    """Every song once, heavier ones more likely earlier (draws without replacement)."""
    left = [(c.song_id, song_weight(c, context)) for c in pool]
    left = [(i, w) for i, w in left if w > 0]
    order: list[int] = []
    while left:
        k = rng.choices(range(len(left)), weights=[w for _, w in left])[0]
        order.append(left.pop(k)[0])
    return order


def build_queue(
    candidates: Sequence[Candidate],
    context: QueueContext,
    rng: random.Random,
    length: int = 20,
) -> list[int]:
    """The next `length` song ids: a weighted shuffle (see the module's docstring).

    With `context.decade` set, only songs from that decade; when the resident has fewer
    than `weights.decade_min_songs` of them, other residents' songs of the decade
    (`context.fallback`) top it up, at a lower weight, never one this resident red-flagged.
    """
    own = not_dropped(playable(candidates))
    pool: list[tuple[Candidate, float]]
    opening: list[int] = []
    if context.decade is None and context.mode is not Mode.USUAL:
        chosen = mode_pool(own, context)
        opening = _opening(chosen, context, rng)[:length]
        pool = [(c, song_weight(c, context)) for c in chosen]
    elif context.decade is None:
        pool = [(c, song_weight(c, context)) for c in own]
    else:
        decade = context.decade - context.decade % 10
        own = [c for c in own if in_decade(c.year, decade)]
        pool = [(c, song_weight(c, context)) for c in own]
        if len(own) < context.weights.decade_min_songs:
            refused = {c.song_id for c in candidates if c.never_play} | {c.song_id for c in own}
            factor = context.weights.fallback_factor
            for c in playable(context.fallback):
                if in_decade(c.year, decade) and c.song_id not in refused:
                    refused.add(c.song_id)
                    pool.append((c, song_weight(c, context) * factor))
    pool = [(c, w) for c, w in pool if w > 0]
    if not pool or length <= 0:
        return []
    artists_by_id = {c.song_id: _artist_key(c.artist) for c in itertools.chain(candidates, context.fallback)}
    if opening:
        context = dataclasses.replace(context, recent=(*context.recent, *opening))
    return opening + _shuffle(pool, context, rng, length - len(opening), artists_by_id)


def _artist_key(artist: str) -> str:
    key = " ".join(artist.casefold().split())
    return key[4:] if key.startswith("the ") else key


def _shuffle(
    pool: list[tuple[Candidate, float]],
    context: QueueContext,
    rng: random.Random,
    length: int,
    artists_by_id: dict[int, str],
) -> list[int]:
    """Weighted draws with replacement, refusing a song heard within the last `gap` songs
    and the previous song's artist. Refusals are redrawn (rejection sampling keeps the
    odds exact among the allowed songs) and only a small or one-artist library falls back
    to filtering the whole pool."""
    ids = [c.song_id for c, _ in pool]
    artists = [artists_by_id[i] for i in ids]
    weights = [w for _, w in pool]
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]
    several_artists = len({a for a in artists if a}) > 1 or any(not a for a in artists)
    # In a small library a long gap would turn the shuffle into a fixed rotation in
    # which weights no longer matter; a third of the library keeps them meaningful.
    gap = min(context.weights.queue_gap, len(pool) // 3) if len(pool) > 1 else 0
    gap = max(gap, 1) if len(pool) > 1 else 0
    history = list(context.recent)
    last_artist = artists_by_id.get(history[-1], "") if history else ""
    order: list[int] = []
    for _ in range(length):
        blocked = set(history[-gap:]) if gap else set()
        avoid = last_artist if several_artists else ""
        pick = -1
        for _attempt in range(32):
            k = min(bisect.bisect_right(cumulative, rng.random() * total), len(ids) - 1)
            if ids[k] not in blocked and not (avoid and artists[k] == avoid):
                pick = k
                break
        if pick < 0:
            allowed = [k for k in range(len(ids)) if ids[k] not in blocked and not (avoid and artists[k] == avoid)]
            allowed = allowed or [k for k in range(len(ids)) if ids[k] not in blocked] or list(range(len(ids)))
            pick = rng.choices(allowed, weights=[weights[k] for k in allowed])[0]
        order.append(ids[pick])
        history.append(ids[pick])
        last_artist = artists[pick]
    return order


# A song's tempo in beats per minute (content.sound: a person's figure, else a confident
# measurement); where it is unknown the modes go by people's marks alone.
TEMPO_SQL = sound.TEMPO_SQL

_HISTORY_SQL = f"""
SELECT song_id,
       SUM(ended_how IN ({", ".join(f"'{how}'" for how in SKIPS)}) AND seconds_heard < ?) AS early_skips,
       MAX(started_at) AS last
FROM plays WHERE resident_id = ? GROUP BY song_id
"""


def _history(db: sqlite_utils.Database, resident_id: int, early_skip_seconds: float) -> dict[int, tuple[int, str]]:
    """song id → (early skips, last started) for this resident. One pass over their plays,
    kept apart from the songs query: joining the two made SQLite sort twice."""
    return {r[0]: (int(r[1] or 0), r[2])
            for r in db.execute(_HISTORY_SQL, [early_skip_seconds, resident_id]).fetchall()}


def candidates(
    db: sqlite_utils.Database,
    resident_id: int,
    *,
    now: float | None = None,
    early_skip_seconds: float = 20.0,
) -> list[Candidate]:
    """The resident's songs with their play history, as the weighting needs them."""
    rows = db.execute(
        f"""SELECT s.id, rs.title, rs.artist, rs.year, s.unplayable, rs.favourite, rs.never_play,
                  rs.reactions_positive, rs.reactions_negative, rs.detective, rs.feel, {TEMPO_SQL}
           FROM resident_songs rs JOIN songs s ON s.id = rs.song_id
           WHERE rs.resident_id = ? ORDER BY s.id""",
        [resident_id],
    ).fetchall()
    return _to_candidates(rows, _history(db, resident_id, early_skip_seconds), time.time() if now is None else now)


def decade_fallback(
    db: sqlite_utils.Database,
    resident_id: int,
    decade: int,
    *,
    now: float | None = None,
    early_skip_seconds: float = 20.0,
) -> list[Candidate]:
    """Other residents' songs from `decade` for decade radio: never one this resident has,
    never an unplayable one, and never one anybody has red-flagged (a song that upset one
    resident is not a safe surprise for another). They carry the names their files give,
    never another family's names for them."""
    decade -= decade % 10
    rows = db.execute(
        f"""SELECT s.id, s.title, s.artist, y.year, s.unplayable, 0, 0, 0, 0, 'trying', NULL, {TEMPO_SQL}
           FROM songs s
           JOIN (SELECT song_id, MIN(year) AS year FROM resident_songs
                 WHERE resident_id != :resident AND year >= :start AND year < :start + 10 GROUP BY song_id) y
             ON y.song_id = s.id
           WHERE s.unplayable = 0
             AND NOT EXISTS (SELECT 1 FROM resident_songs m WHERE m.song_id = s.id AND m.resident_id = :resident)
             AND NOT EXISTS (SELECT 1 FROM resident_songs f WHERE f.song_id = s.id AND f.never_play = 1)
           ORDER BY s.id""",
        {"resident": resident_id, "start": decade},
    ).fetchall()
    return _to_candidates(rows, _history(db, resident_id, early_skip_seconds), time.time() if now is None else now)


def _to_candidates(rows, history: dict[int, tuple[int, str]], now: float) -> list[Candidate]:
    out = []
    for song_id, title, artist, year, unplayable, favourite, never_play, positive, negative, status, feel, tempo in rows:
        skips, last = history.get(song_id, (0, None))
        out.append(Candidate(
            song_id=song_id, title=title, artist=artist, year=year,
            favourite=bool(favourite), never_play=bool(never_play), unplayable=bool(unplayable),
            early_skips=skips, last_played_s_ago=max(0.0, now - parse_utc(last)) if last else None,
            positive=positive or 0, negative=negative or 0, detective=status or Detective.TRYING, feel=feel,
            tempo=tempo,
        ))
    return out


def next_songs(
    db: sqlite_utils.Database,
    resident_id: int,
    rng: random.Random,
    *,
    recent: Sequence[int] = (),
    decade: int | None = None,
    mode: Mode = Mode.USUAL,
    length: int = 20,
) -> list[int]:
    """What the kiosk calls: the next `length` song ids for this resident (may be empty).
    Decade radio is a person's explicit choice and goes by the decade alone; otherwise
    `mode` (the time of day) shapes the choice. A care task wins over both."""
    if mode is Mode.CARE_TASK:
        decade = None
    weights = era_weights.load(db)
    birth = db.execute("SELECT birth_year FROM residents WHERE id = ?", [resident_id]).fetchone()
    now = time.time()
    own = candidates(db, resident_id, now=now, early_skip_seconds=weights.early_skip_seconds)
    fallback: list[Candidate] = []
    if decade is not None:
        in_it = sum(1 for c in playable(own) if in_decade(c.year, decade - decade % 10))
        if in_it < weights.decade_min_songs:
            fallback = decade_fallback(db, resident_id, decade, now=now,
                                       early_skip_seconds=weights.early_skip_seconds)
    context = QueueContext(
        birth_year=birth[0] if birth else None, recent=tuple(recent), decade=decade,
        fallback=tuple(fallback), weights=weights,
        mode=Mode.USUAL if decade is not None else mode,
        pace=care_modes.pace(db, resident_id),
    )
    return build_queue(own, context, rng, length)
