"""Waking the boxes' waiting polls when something they may need changes.

One thread per hub process reads the revision counter a few times a second (one tiny query)
and wakes every waiting poll when it moves; each poll then checks its own box's version. So
a red flag reaches a waiting box within a fraction of a second, and 200 idle boxes cost the
hub one query every 200 ms, not 200.

It also keeps the polls waiting now, one per box: a box that is waiting is online this
moment, and the hub answers at once (the box polls again shortly) when its waiting places are
full, so the pages people use always have threads to run on. A box's newer poll takes its
place from the older one, which is answered at once: a box waits with one poll at a time, so
an older one is a connection it has given up on, and one box cannot hold every place.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import itertools
import time
from typing import Callable

import sqlite_utils

from content.hub import revisions

INTERVAL_S = 0.2
log = logging.getLogger("evergreen.hub")


class ChangeWatch:
    def __init__(self, open_db: Callable[[], sqlite_utils.Database], slots: int, interval: float = INTERVAL_S) -> None:
        self._open_db = open_db
        self._interval = interval
        self.slots = slots
        self._cond = threading.Condition()
        self._counter = -1
        self._thread: threading.Thread | None = None
        self._waiting: dict[int, int] = {}    # box id -> the ticket of its one waiting poll
        self._tickets = itertools.count(1)
        self._closed = False

    def _run(self) -> None:
        db = self._open_db()
        try:
            while not self._closed:
                try:
                    n = revisions.counter(db)
                except sqlite3.Error:
                    # A busy or briefly unreadable library: the polls wake at their next
                    # check anyway (every 30 s at most); try again shortly.
                    log.warning("The hub could not read its change counter; trying again.", exc_info=True)
                    time.sleep(1.0)
                    continue
                with self._cond:
                    if n != self._counter:
                        self._counter = n
                        self._cond.notify_all()
                time.sleep(self._interval)
        finally:
            db.close()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hub-change-watch", daemon=True)
            self._thread.start()

    def enter(self, box_id: int) -> int | None:
        """Take the box's waiting place: a ticket for leave() and wait(), or None when every
        place is taken by other boxes. The box's older poll, if any, gives its place up."""
        with self._cond:
            self._start()
            if box_id not in self._waiting and len(self._waiting) >= self.slots:
                return None
            ticket = self._waiting[box_id] = next(self._tickets)
            self._cond.notify_all()     # wakes the older poll, which then answers
            return ticket

    def leave(self, box_id: int, ticket: int) -> None:
        with self._cond:
            if self._waiting.get(box_id) == ticket:
                del self._waiting[box_id]

    def replaced(self, box_id: int, ticket: int) -> bool:
        """Has a newer poll of the same box taken this one's place?"""
        with self._cond:
            return self._waiting.get(box_id) != ticket

    def waiting_boxes(self) -> set[int]:
        with self._cond:
            return set(self._waiting)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Wake every waiting poll (they answer at once) and stop watching: the server is
        stopping."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def current(self) -> int:
        """The counter as last read: take it before looking at the database, then wait
        from it, and no change can slip between the look and the wait."""
        with self._cond:
            self._start()
            return self._counter

    def wait(self, seen: int, timeout: float, place: tuple[int, int] | None = None) -> int:
        """Until the counter moves past `seen`, the timeout passes or (for `place`, a box id
        and its ticket) a newer poll of the box takes the place; returns the counter."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._start()
            while (self._counter == seen and not self._closed
                   and not (place and self._waiting.get(place[0]) != place[1])):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return self._counter
