"""The next song, made ready before the one playing ends.

Shortly before a song ends, the next one is decoded into the same stream
(`kiosk.stream`), so that it follows with no gap. Playback asks for it (`prepare`), calls
it off after a button, a stop or a red flag (`drop`), and takes it over once the output
reaches it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import sqlite_utils

from content import library
from content.care.modes import Mode
from kiosk.config import KioskConfig
from kiosk.session import Session
from kiosk.tracklist import Tracklist

if TYPE_CHECKING:
    from kiosk.playback import PlayerLike

MOST_TRIES = 200
PREPARE_S = 8.0              # the next song is made ready this long before the one playing ends


@dataclass
class Queued:
    """The song made ready to follow the one playing, and what the tracklist was then."""

    song: library.SongFile
    path: Path
    token: int
    decade: int | None
    mode: Mode
    began: float | None = None           # when its first samples went into the stream


class NextSong:
    """Owns the song made ready: which it is, and for which song it was looked for."""

    def __init__(self, config: KioskConfig, db: sqlite_utils.Database, player: PlayerLike, tracklist: Tracklist,
                 session: Session, gain_db: Callable[[library.SongFile], float],
                 mark_unplayable: Callable[[library.SongFile, str], None]) -> None:
        self.config = config
        self._db = db
        self._player = player
        self._tracklist = tracklist
        self._session = session
        self._gain_db = gain_db
        self.mark_unplayable = mark_unplayable
        self.queued: Queued | None = None
        self.prepared_for: int | None = None   # the token a next song was looked for after

    def prepare(self, current_token: int) -> None:
        """Shortly before the song ends, the next one is decoded into the same stream, so
        that it follows with no gap."""
        self.prepared_for = current_token
        resident = self._session.resident
        if resident is None:
            return
        for _ in range(MOST_TRIES):
            song_id = self._tracklist.next_id()
            if song_id is None:
                return
            song = library.song_file(self._db, song_id, resident.id)
            if song is None:
                continue
            path = self.config.media_path / song.filename
            if not path.is_file():
                self.mark_unplayable(song, "The song's file is missing from the media folder.")
                continue
            token = self._player.queue(path, self._gain_db(song))
            if token is None:
                self._tracklist.put_back(song.id)
                return
            self.queued = Queued(song, path, token, self._tracklist.decade, self._tracklist.mode)
            return

    def drop(self, *, put_back: bool = True) -> None:
        """The song made ready will not follow after all (a button, a stop, a red flag);
        it stays next in line unless the decade or the time of day changed meanwhile."""
        queued, self.queued = self.queued, None
        self.prepared_for = None
        if queued is None:
            return
        self._player.drop_queued()
        if put_back and queued.decade == self._tracklist.decade and queued.mode is self._tracklist.mode:
            self._tracklist.put_back(queued.song.id)
