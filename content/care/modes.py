"""Times of day: calm music in the evening and before bed, a steady beat for a walk or a
movement session, the usual music otherwise, and 30 minutes of calming keepers before a
hard care task.

Each resident has a small schedule (`residents.schedule`, JSON: a list of windows with a
mode and a start and end time of day, in the box's local time); outside every window the
mode is "usual". Whether a song fits a mode comes from a person's mark on the resident's
entry (`resident_songs.feel`: calm or steady) and, where nobody marked it, from the song's
tempo when the library knows it. The rules for building a queue in a mode are in
`content.queue`; this module owns the vocabulary, the schedule and the marks.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Sequence

import sqlite_utils

from content import library
from content.db import LibraryError, write
from content.text import one_of

CARE_TASK_MINUTES = 30
MAX_WINDOWS = 12


class Mode(StrEnum):
    USUAL = "usual"
    CALM = "calm"
    STEADY = "steady_beat"
    CARE_TASK = "care_task"

    @property
    def words(self) -> str:
        return {Mode.USUAL: "Usual music", Mode.CALM: "Calm", Mode.STEADY: "Steady beat",
                Mode.CARE_TASK: "Before a care task"}[self]


SCHEDULED = (Mode.CALM, Mode.STEADY)     # what a schedule window may ask for


class Feel(StrEnum):
    """A person's mark on a song for one resident."""

    CALM = "calm"
    STEADY = "steady"

    @property
    def words(self) -> str:
        return {Feel.CALM: "Calm", Feel.STEADY: "Steady beat"}[self]


def feel_of(text: str | None) -> Feel | None:
    if not text:
        return None
    return one_of(Feel, text, f"“{text}” is not a mark Evergreen knows: calm, steady or none.")


@dataclass(frozen=True)
class Pace:
    """The steady-beat range staff set for a resident, and their own walking pace, in beats
    per minute (about 100 steps a minute is a usual older adult's walk)."""

    low: int = 90
    high: int = 120
    pace: int = 100

    @classmethod
    def of(cls, low: int | None, high: int | None, pace: int | None) -> "Pace":
        """Staff's numbers, each one left unset taking its default."""
        d = cls()
        return cls(low=low or d.low, high=high or d.high, pace=pace or d.pace)


def fits(mode: Mode, feel: str | None, tempo: float | None, *, pace: Pace, calm_max_bpm: float) -> bool | None:
    """Does a song fit the mode? True or False when a mark or a tempo says, None when
    nothing is known. A person's mark wins over a measured tempo."""
    if mode is Mode.USUAL:
        return True
    want = Feel.STEADY if mode is Mode.STEADY else Feel.CALM
    if feel:
        return feel == want
    if tempo is None or tempo <= 0:
        return None
    if want is Feel.CALM:
        return tempo < calm_max_bpm
    return pace.low <= tempo <= pace.high


# --- the schedule -------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    mode: Mode
    start: _dt.time
    end: _dt.time

    def contains(self, t: _dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end          # across midnight, e.g. 21:00-07:00

    def as_json(self) -> dict[str, str]:
        return {"mode": str(self.mode), "start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M")}

    @property
    def words(self) -> str:
        return f"{self.mode.words}, {self.start.strftime('%H:%M')} to {self.end.strftime('%H:%M')}"


def parse_time(text: str | None, what: str = "time") -> _dt.time:
    text = (text or "").strip()
    try:
        hours, _, minutes = text.partition(":")
        if not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit()
                and len(hours) <= 2 and len(minutes) == 2):
            raise ValueError(text)
        return _dt.time(int(hours), int(minutes))
    except ValueError:
        raise LibraryError(f"Please write the {what} like 19:30.") from None


def make_window(mode: str, start: str, end: str) -> Window:
    try:
        m = Mode(mode)
    except ValueError:
        m = None
    if m not in SCHEDULED:
        raise LibraryError("A time of day is either calm or steady beat.")
    w = Window(m, parse_time(start, "start time"), parse_time(end, "end time"))
    if w.start == w.end:
        raise LibraryError("The start and end times are the same.")
    return w


def parse_schedule(text: str | None) -> list[Window]:
    """The stored schedule; a window that cannot be read is left out rather than stopping the music."""
    try:
        raw = json.loads(text or "[]")
    except ValueError:
        return []
    out = []
    for item in raw if isinstance(raw, list) else []:
        try:
            out.append(make_window(item["mode"], item["start"], item["end"]))
        except (LibraryError, KeyError, TypeError):
            continue
    return out


def schedule(db: sqlite_utils.Database, resident_id: int) -> list[Window]:
    row = db.execute("SELECT schedule FROM residents WHERE id = ?", [resident_id]).fetchone()
    return parse_schedule(row[0]) if row else []


def _save(db: sqlite_utils.Database, resident_id: int, windows: Sequence[Window], user_id: int | None) -> None:
    with write(db):
        data = [w.as_json() for w in windows]
        cur = db.execute("UPDATE residents SET schedule = ? WHERE id = ?", [json.dumps(data), resident_id])
        if cur.rowcount != 1:
            raise LibraryError(f"There is no resident number {resident_id}.")
        library.audit(db, "resident.schedule", user_id=user_id, resident_id=resident_id, detail={"schedule": data})


def add_window(db: sqlite_utils.Database, resident_id: int, window: Window, *, user_id: int | None = None) -> None:
    with write(db):
        windows = schedule(db, resident_id)
        if len(windows) >= MAX_WINDOWS:
            raise LibraryError(f"A day has room for {MAX_WINDOWS} times; please remove one first.")
        _save(db, resident_id, [*windows, window], user_id)


def remove_window(db: sqlite_utils.Database, resident_id: int, index: int, *, user_id: int | None = None) -> None:
    with write(db):
        windows = schedule(db, resident_id)
        if not 0 <= index < len(windows):
            raise LibraryError("That time is no longer in the schedule.")
        _save(db, resident_id, windows[:index] + windows[index + 1:], user_id)


def mode_at(windows: Sequence[Window], when: _dt.time) -> Mode:
    """The first window that holds `when` decides; otherwise the usual music."""
    for w in windows:
        if w.contains(when):
            return w.mode
    return Mode.USUAL


def scheduled_mode(db: sqlite_utils.Database, resident_id: int, now: _dt.datetime | None = None) -> Mode:
    """The mode the resident's schedule asks for at `now` (the box's local time)."""
    now = now or _dt.datetime.now().astimezone()
    return mode_at(schedule(db, resident_id), now.time())


# --- marks and pace -----------------------------------------------------------------------

def set_feel(db: sqlite_utils.Database, resident_id: int, song_id: int, feel: Feel | None, *,
             user_id: int | None = None) -> None:
    with write(db):
        cur = db.execute("UPDATE resident_songs SET feel = ? WHERE resident_id = ? AND song_id = ?",
                         [str(feel) if feel else None, resident_id, song_id])
        if cur.rowcount != 1:
            raise LibraryError("That song is not in this resident's library.")
        library.audit(db, "song.feel", user_id=user_id, resident_id=resident_id, song_id=song_id,
                      detail={"feel": str(feel) if feel else None})


def set_pace(db: sqlite_utils.Database, resident_id: int, *, low: int | None, high: int | None, pace: int | None,
             user_id: int | None = None) -> None:
    d = Pace()
    if (low or d.low) > (high or d.high):
        raise LibraryError("The slowest beat should not be above the fastest.")
    with write(db):
        db.execute("UPDATE residents SET steady_bpm_low = ?, steady_bpm_high = ?, pace_bpm = ? WHERE id = ?",
                   [low, high, pace, resident_id])
        library.audit(db, "resident.pace", user_id=user_id, resident_id=resident_id,
                      detail={"low": low, "high": high, "pace": pace})


def pace(db: sqlite_utils.Database, resident_id: int) -> Pace:
    row = db.execute("SELECT steady_bpm_low, steady_bpm_high, pace_bpm FROM residents WHERE id = ?",
                     [resident_id]).fetchone()
    return Pace.of(*row) if row else Pace()


def feel_counts(db: sqlite_utils.Database, resident_id: int) -> dict[str, int]:
    """How many of the resident's songs (not red-flagged) carry each mark; "" for none."""
    return {row[0] or "": row[1] for row in db.execute(
        "SELECT feel, COUNT(*) FROM resident_songs WHERE resident_id = ? AND never_play = 0 GROUP BY feel",
        [resident_id])}
