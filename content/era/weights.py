"""How much a song should come up for a resident, from the age they were when it came out.

Music from a person's teens and twenties brings back more memories than any other (the
reminiscence bump), and personal meaning beats era. The defaults follow DESIGN.md's table;
every number can be changed in the library's `settings` table under the key
`era.weights`, a JSON object with any of `EraWeights`' fields, for example
`{"bands": [[13, 19, 1.0], [20, 30, 0.8]], "favourite_boost": 4}`.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from content.db import LibraryError
from content.library import get_setting, set_setting

SETTINGS_KEY = "era.weights"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgeBand:
    """Songs released when the resident was `low`..`high` years old (inclusive)."""

    low: int
    high: int
    weight: float


DEFAULT_BANDS: tuple[AgeBand, ...] = (
    AgeBand(13, 19, 1.0),   # the bump peaks in the teens (Rao 2021; Jakubowski 2020)
    AgeBand(20, 30, 0.8),   # and spans about 10-30 (Baird 2018)
    AgeBand(10, 12, 0.8),   # start of the bump
    AgeBand(31, 45, 0.4),   # music-evoked memories persist into the 40s (Platz 2015)
    AgeBand(3, 9, 0.3),     # childhood songs, nursery rhymes, hymns
)


@dataclass(frozen=True)
class EraWeights:
    """Every number the weighted shuffle uses. Where bands overlap the highest weight wins."""

    bands: tuple[AgeBand, ...] = DEFAULT_BANDS
    parents_from: int = -25          # the parents' era: release year - birth year in this range
    parents_to: int = 5              # (cascading reminiscence bump, Krumhansl & Zupnick 2013)
    parents_weight: float = 0.3
    otherwise: float = 0.1
    unknown_year: float = 0.5        # a song whose year nobody knows yet still plays
    favourite_boost: float = 3.0
    early_skip_seconds: float = 20.0  # a skip before this many seconds counts as "not this one"
    early_skips_to_sink: int = 3
    sunk_factor: float = 0.1
    rest_hours: float = 4.0          # a song played this recently comes back slowly
    rest_floor: float = 0.1          # its weight just after playing, relative to normal
    queue_gap: int = 10              # no song again within this many songs (a small library: a third of it)
    decade_min_songs: int = 8        # decade radio tops up from other residents below this
    fallback_factor: float = 0.5     # other residents' songs weigh less than the resident's own
    positive_lift: float = 0.25      # each positive reaction lifts a song by this much...
    positive_lift_most: float = 2.0  # ...up to this many times its weight
    negative_sink: float = 0.5       # each negative reaction multiplies its weight by this...
    negative_sink_most: float = 0.1  # ...down to this fraction
    keeper_boost: float = 1.5        # the music detective's keepers come up more often
    mode_min_songs: int = 5          # a time-of-day mode widens its choice below this many songs
    calm_max_bpm: float = 80.0       # calm: slower than this (DESIGN: about 80 BPM)

    def era_weight(self, song_year: int | None, birth_year: int | None) -> float:
        if birth_year is None:
            return 1.0
        if song_year is None:
            return self.unknown_year
        age = song_year - birth_year
        weight = None
        for band in self.bands:
            if band.low <= age <= band.high and (weight is None or band.weight > weight):
                weight = band.weight
        if self.parents_from <= age <= self.parents_to and (weight is None or self.parents_weight > weight):
            weight = self.parents_weight
        return self.otherwise if weight is None else weight

    def rest(self, seconds_ago: float | None) -> float:
        """1.0 for a song not heard lately; `rest_floor` just after it played."""
        if seconds_ago is None or self.rest_hours <= 0:
            return 1.0
        recovered = min(1.0, seconds_ago / (self.rest_hours * 3600))
        return self.rest_floor + (1 - self.rest_floor) * recovered

    @classmethod
    def from_setting(cls, value: Mapping[str, Any] | None) -> "EraWeights":
        """Defaults overridden by a settings value; a wrong key or number is an error that says which."""
        if not value:
            return cls()
        if not isinstance(value, Mapping):
            raise LibraryError(f"The {SETTINGS_KEY} setting must be a set of named numbers.")
        known = {f.name: f for f in dataclasses.fields(cls)}
        changes: dict[str, Any] = {}
        for key, raw in value.items():
            if key not in known:
                raise LibraryError(f"The {SETTINGS_KEY} setting has an unknown entry {key!r}; "
                                   f"known entries are {', '.join(sorted(known))}.")
            if key == "bands":
                changes[key] = _bands(raw)
                continue
            default = getattr(cls(), key)
            try:
                number = type(default)(raw)
            except (TypeError, ValueError):
                raise LibraryError(f"The {SETTINGS_KEY} entry {key!r} must be a number, not {raw!r}.") from None
            if isinstance(raw, bool) or number < 0 and key not in ("parents_from", "parents_to"):
                raise LibraryError(f"The {SETTINGS_KEY} entry {key!r} must be a number of at least 0, not {raw!r}.")
            changes[key] = number
        return dataclasses.replace(cls(), **changes)

    def as_setting(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["bands"] = [[b.low, b.high, b.weight] for b in self.bands]
        return data


def _bands(raw: Any) -> tuple[AgeBand, ...]:
    try:
        bands = tuple(AgeBand(int(low), int(high), float(w)) for low, high, w in raw)
    except (TypeError, ValueError):
        raise LibraryError(f"The {SETTINGS_KEY} bands must be a list of [from age, to age, weight].") from None
    for b in bands:
        if b.low > b.high or b.weight < 0:
            raise LibraryError(f"The {SETTINGS_KEY} band {[b.low, b.high, b.weight]} does not make sense: "
                               "the first age must not be above the second and the weight must be at least 0.")
    return bands


def load(db) -> EraWeights:
    """The library's weights. A broken setting must not silence the kiosk: it is logged
    and the defaults are used (the admin shows the error when the setting is saved)."""
    try:
        return EraWeights.from_setting(get_setting(db, SETTINGS_KEY))
    except (LibraryError, ValueError) as exc:
        log.warning("Using the default era weights: %s", exc)
        return EraWeights()


def save(db, weights: EraWeights) -> None:
    set_setting(db, SETTINGS_KEY, weights.as_setting())
