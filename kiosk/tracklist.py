"""The tracklist: which songs come next for the resident, and which came before.

The order itself is `content.queue.next_songs` (a weighted shuffle over the library); the
tracklist keeps what it handed out, so that recently heard songs rest and Previous can go
back. What was heard before a restart counts too: it is read from the play history.
"""
from __future__ import annotations

import logging
import random

import sqlite_utils

from content.care.modes import Mode
from content.plays import History
from content.queue import next_songs

log = logging.getLogger("kiosk")

RECENT = 10


class Tracklist:
    def __init__(self, db: sqlite_utils.Database, history: History, rng: random.Random) -> None:
        self._db = db
        self._history = history
        self._rng = rng
        self.resident_id: int | None = None
        self.decade: int | None = None
        self.mode = Mode.USUAL               # the time of day, or a care task (set by the session)
        self.upcoming: list[int] = []
        self.played: list[int] = []          # this run, oldest first; Previous walks back through it
        self._heard_before: list[int] = []   # from the play history when the resident was chosen

    def reset(self, resident_id: int) -> None:
        """A new resident (or the same one after a restart): start from their history."""
        self.resident_id = resident_id
        self.decade = None
        self.played = []
        self._heard_before = self._history.recent_songs(resident_id, RECENT)
        self.refill()

    def set_decade(self, decade: int | None) -> None:
        self.decade = decade
        self.upcoming = []

    def set_mode(self, mode: Mode) -> None:
        """A new time of day: the song playing goes on, the next ones follow the mode."""
        if mode is not self.mode:
            self.mode = mode
            self.upcoming = []

    def refill(self) -> None:
        """A fresh order from the library (new songs and red flags count at once)."""
        if self.resident_id is None:
            self.upcoming = []
            return
        recent = (self._heard_before + self.played)[-RECENT:]
        self.upcoming = next_songs(self._db, self.resident_id, self._rng, recent=recent, decade=self.decade,
                                   mode=self.mode)
        if not self.upcoming and self.decade is not None:
            log.info("No songs from the %ds for this resident: playing all of their songs.", self.decade)
            self.decade = None
            self.upcoming = next_songs(self._db, self.resident_id, self._rng, recent=recent, mode=self.mode)

    def next_id(self) -> int | None:
        if not self.upcoming:
            self.refill()
        return self.upcoming.pop(0) if self.upcoming else None

    def started(self, song_id: int) -> None:
        """A song began. One that did not come from the front of the queue (a resumed song,
        Previous) leaves the queue too, so Next never plays it again straight away."""
        self.played.append(song_id)
        self.forget(song_id)

    def put_back(self, song_id: int) -> None:
        """A song taken as next that did not play: it is next again."""
        self.forget(song_id)
        self.upcoming.insert(0, song_id)

    def forget(self, song_id: int) -> None:
        self.upcoming = [s for s in self.upcoming if s != song_id]

    def back(self, current: int) -> int | None:
        """Previous, while `current` plays: the song before it (None when there is none).
        `current` goes back to the front of the queue, so Next returns to it."""
        if len(self.played) < 2:
            return None
        before = self.played[-2]
        self.played = self.played[:-2]
        self.upcoming.insert(0, current)
        return before

    def again(self) -> None:
        """Previous on the first song: it starts again from the top."""
        if self.played:
            self.played.pop()
