"""What staff do at the box (its panel, a resident button, the care loop's buttons): choose
whose music plays, log that a song did some good, and calm music before a care task."""
from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Callable

import sqlite_utils

from content import library
from content.care import reactions
from content.db import LibraryError
from content.plays import PlayEnd
from kiosk.playback import Playback
from kiosk.session import Session

log = logging.getLogger("kiosk")


@dataclass
class Staff:
    db: sqlite_utils.Database
    session: Session
    playback: Playback
    clock: Callable[[], float]
    say: Callable[[str], None]

    def switch_resident(self, name: str) -> None:
        """Music for `name` now: the song playing is saved where it was, for the resident before."""
        resident = library.find_resident(self.db, name)
        if resident is None:
            log.warning("There is no resident called %s.", name)
            return
        if self.playback.current is not None:
            self.playback.stop_now(PlayEnd.STOPPED)    # saved where it was, for the resident before
        self.session.switch_to(resident)
        self.say(f"Now playing for {resident.name}.")
        self.playback.start()

    def react(self) -> None:
        """Staff saw the song do some good: logged against the play, counted on the song. A
        write that fails (a full disk) is logged and the music goes on."""
        current, resident = self.playback.current, self.session.resident
        if current is None or resident is None:
            log.info("Nothing is playing, so there is no song to log a reaction for.")
            return
        try:
            reactions.record(self.db, resident.id, reactions.ReactionKind.POSITIVE, song_id=current.song.id,
                             play_id=current.play_id, by_role="staff", source=reactions.Source.BOX)
        except (sqlite3.Error, LibraryError, OSError) as exc:
            log.warning("Could not log the reaction: %s", exc)
            return
        self.say(f"Logged something good for {current.song.describe()}.")

    def care_task(self) -> None:
        """Calming keepers now, for half an hour: the song playing gives way at once."""
        if self.session.resident is None:
            return
        self.session.start_care_task()
        self.session.check_mode(self.clock())
        self.say(f"Before a care task: calming music for {self.session.resident.name}.")
        self.playback.skip(PlayEnd.STOPPED)
