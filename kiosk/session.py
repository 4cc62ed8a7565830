"""The session: whose music this is, their limits, how long the music may go on, and
whether the library changed under us.

A session starts whenever music starts from quiet, by whatever path (Play, Next, Previous,
a decade or resident button, the staff panel), and ends after the resident's (or the
kiosk's) session length with a fade out. The library is watched through SQLite's
data_version, polled once a second and checked at once when the admin says so.

The session also knows the time of day's mode (the resident's schedule, read by the box's
wall clock) and the before-a-care-task action: calming keepers for `CARE_TASK_MINUTES`,
after which the music fades out and the schedule's mode returns.
"""
from __future__ import annotations

import datetime as _dt
import logging
from typing import Callable, Sequence

import sqlite_utils

from content import library
from content.care import modes
from content.care.modes import Mode
from content.db import data_version
from content.plays import History
from kiosk.config import KioskConfig
from kiosk.mixer import Mixer
from kiosk.tracklist import Tracklist

log = logging.getLogger("kiosk")

LIBRARY_POLL_S = 1.0


def local_now() -> _dt.datetime:
    return _dt.datetime.now().astimezone()


class Session:
    def __init__(self, config: KioskConfig, db: sqlite_utils.Database, history: History, mixer: Mixer,
                 tracklist: Tracklist, clock: Callable[[], float],
                 wall: Callable[[], _dt.datetime] = local_now) -> None:
        self.config = config
        self._db, self._history, self._clock, self._wall = db, history, clock, wall
        self._windows: Sequence[modes.Window] = ()
        self.care_until: float | None = None
        self._mixer, self._tracklist = mixer, tracklist      # told of each new resident
        self.resident: library.Resident | None = None
        self.quiet_reason: str | None = None
        self.ends: float | None = None
        self._version = data_version(db)
        self._next_check = clock() + LIBRARY_POLL_S

    # ---- the resident -----------------------------------------------------------------

    def choose_resident(self) -> library.Resident | None:
        """The resident saved from last time, else the config's, else the first one."""
        chosen: library.Resident | None = None
        saved = self._history.load("resident_id")
        if saved is not None:
            try:
                chosen = library.get_resident(self._db, int(saved))
            except (library.LibraryError, ValueError, TypeError):
                chosen = None
        if chosen is None and self.config.resident:
            chosen = library.find_resident(self._db, self.config.resident)
            if chosen is None:
                self.resident = None
                self.quiet_reason = (f"This kiosk is set to play for {self.config.resident}, "
                                     f"but there is no resident called {self.config.resident} in the library.")
                return None
        if chosen is None:
            residents = library.list_residents(self._db)
            if not residents:
                self.resident = None
                self.quiet_reason = "There are no residents in the library yet."
                return None
            chosen = residents[0]
        self._take(chosen)
        return chosen

    def switch_to(self, resident: library.Resident) -> None:
        """A resident button: this kiosk plays for them from now on, after a restart too."""
        self._history.save("resident_id", resident.id)
        self._take(resident)

    def _take(self, resident: library.Resident) -> None:
        """A new resident (or the same after a restart): their limits, level and queue."""
        self.resident = resident
        self.care_until = None
        self._windows = modes.schedule(self._db, resident.id)
        self._tracklist.mode = self.mode(self._clock())
        self._apply_cap()
        self._mixer.reset_level(resident.start_volume)
        self._tracklist.reset(resident.id)
        self.quiet_reason = None if self._tracklist.upcoming else self.nothing_reason()

    def reload_resident(self) -> bool:
        """Re-read the resident after a library change; False when they were removed."""
        if self.resident is None:
            return False
        try:
            self.resident = library.get_resident(self._db, self.resident.id)
        except library.LibraryError:
            log.info("The resident this kiosk played for was removed.")
            self.resident = None
            return False
        self._windows = modes.schedule(self._db, self.resident.id)
        return True

    def nothing_reason(self) -> str:
        """Why nothing can play for the resident, in words for staff."""
        name = self.resident.name if self.resident else "this resident"
        if not self.resident or library.song_count(self._db, self.resident.id) == 0:
            return f"{name} has no songs in the library yet."
        return f"None of {name}'s songs can be played: each is set to never play or its file cannot be played."

    # ---- the timer --------------------------------------------------------------------

    def start_timer(self) -> None:
        minutes = (self.resident.session_minutes if self.resident else None) or self.config.session.minutes
        self.ends = self._clock() + minutes * 60 if minutes else None

    def stop_timer(self) -> None:
        """The music stopped (a press, the end of the session): a care task ends with it,
        and the next music follows the time of day again."""
        self.ends = None
        if self.care_until is not None:
            self.care_until = None
            self.check_mode(self._clock())

    # ---- times of day and the care task -----------------------------------------------

    def start_care_task(self) -> None:
        """Calming keepers for the next half hour, then a fade out."""
        self.care_until = self.ends = self._clock() + self.config.session.care_task_minutes * 60

    def mode(self, now: float) -> Mode:
        if self.care_until is not None and now < self.care_until:
            return Mode.CARE_TASK
        return modes.mode_at(self._windows, self._wall().time())

    def check_mode(self, now: float) -> bool:
        """Tell the tracklist when the time of day moves into another mode. True when it did."""
        mode = self.mode(now)
        if mode is self._tracklist.mode:
            return False
        log.info("Now the %s.", mode.words.lower())
        self._tracklist.set_mode(mode)
        self._apply_cap()
        return True

    def _apply_cap(self) -> None:
        """The resident's cap, softer while the music is calm."""
        if self.resident is not None:
            self._mixer.set_cap(self.resident.volume_cap, calm=self._tracklist.mode in (Mode.CALM, Mode.CARE_TASK))

    def over(self, now: float) -> bool:
        return self.ends is not None and now >= self.ends

    def left(self, now: float) -> float | None:
        return max(0.0, self.ends - now) if self.ends is not None else None

    # ---- the library watch ------------------------------------------------------------

    def check_library(self, now: float, force: bool = False) -> bool:
        """True when the library changed since the last look (or `force`); the resident
        and their limits are read again (None when they were removed)."""
        self._next_check = now + LIBRARY_POLL_S
        version = data_version(self._db)
        if version == self._version and not force:
            return False
        self._version = version
        if self.reload_resident():
            self._apply_cap()
        return True

    def requeue(self, playing: bool) -> None:
        """New songs and red flags reach the queue now, not at the next refill."""
        self._tracklist.refill()
        if self.quiet_reason is not None and self._tracklist.upcoming:
            self.quiet_reason = None
        elif not playing and not self._tracklist.upcoming:
            self.quiet_reason = self.nothing_reason()

    def check_due(self, now: float) -> bool:
        return now >= self._next_check

    def due(self) -> float:
        times = [self._next_check]
        if self.care_until is not None:
            times.append(self.care_until)
        if self.ends is not None:
            times.append(self.ends)
        return min(times)
