"""Playback: the song playing now, from its start to how it ended.

Starts songs through the player (python-vlc, `kiosk.player`), writes each play to the
history, reacts to the player's events (playing, ended, error), lets a song's last notes
drain, skips an unplayable file, fades out and stops. The mixer sets the level, the
tracklist says what comes next, the session says for whom and for how long.
"""
from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Callable, Protocol

import sqlite_utils

from content import library, sound
from content.plays import History, PlayEnd, ResumePoint
from kiosk.config import KioskConfig
from kiosk.mixer import Mixer
from kiosk.next_song import MOST_TRIES, PREPARE_S, NextSong, Queued
from kiosk.player import PlayerEvent, PlayerEventKind
from kiosk.session import Session
from kiosk.tracklist import Tracklist

log = logging.getLogger("kiosk")

TICK_PLAYING_S = 0.25        # track the position (and re-apply the volume) this often
EARLY_END_S = 1.0            # "ended" sooner than this after starting means no audio
FOLLOW_CHECK_S = 0.01        # while the output starts or the next song is on its way, how often to look


class PlaybackState(StrEnum):
    PLAYING = "playing"
    STOPPING = "stopping"    # fading out; Play again calls the fade off
    STOPPED = "stopped"


class PlayerLike(Protocol):
    def play(self, path: Path, start_s: float = 0.0, gain_db: float = 0.0) -> int: ...
    def queue(self, path: Path, gain_db: float = 0.0) -> int | None: ...
    def drop_queued(self) -> None: ...
    def tidy(self) -> None: ...
    def stop(self) -> None: ...
    def set_volume(self, level: float) -> None: ...
    def apply_volume(self) -> bool: ...
    def position(self, token: int | None = None) -> float: ...
    def token_at_output(self) -> int | None: ...
    @property
    def starting(self) -> bool: ...
    def close(self) -> None: ...


@dataclass
class Current:
    song: library.SongFile
    path: Path
    token: int
    play_id: int | None                  # None when the history could not be written
    start_offset: float
    started: float                       # monotonic time play() was called
    playing_since: float | None = None
    position: float = 0.0
    theirs: bool = True                  # the resident's own song (not decade radio's top-up)


# The resume point follows the music: after these, Play starts the next song.
_CLEARS_RESUME = (PlayEnd.FINISHED, PlayEnd.NEXT, PlayEnd.PREVIOUS, PlayEnd.RED_FLAG, PlayEnd.REMOVED,
                  PlayEnd.ERROR)


class Playback:
    def __init__(self, config: KioskConfig, db: sqlite_utils.Database, history: History, player: PlayerLike,
                 mixer: Mixer, tracklist: Tracklist, session: Session, clock: Callable[[], float],
                 say: Callable[[str], None]) -> None:
        self.config = config
        self._db = db
        self._history = history
        self._player = player
        self._mixer = mixer
        self._tracklist = tracklist
        self._session = session
        self._clock = clock
        self._say = say
        self.state = PlaybackState.STOPPED
        self.current: Current | None = None
        self._pending_finish: float | None = None
        self._next_save = clock()
        self._next = NextSong(config, db, player, tracklist, session, self._gain_db, self.mark_unplayable)

    # ---- what may play ----------------------------------------------------------------

    def allowed(self, song_id: int) -> bool:
        resident = self._session.resident
        return resident is not None and library.may_play(self._db, resident.id, song_id)

    def start(self) -> None:
        """Play from quiet: the gentle start level, then where the music stopped or the next song."""
        if self._session.resident is None:
            self._session.choose_resident()
        resident = self._session.resident
        if resident is not None:
            self._mixer.reset_level(resident.start_volume)
            self.resume_or_next()

    def skip(self, how: PlayEnd = PlayEnd.NEXT) -> None:
        """Next (or a decade button): the next song; from quiet, with a gentle start. A
        change that is not a skip of this song (the care task) ends it as `how`."""
        quiet = self.state is PlaybackState.STOPPED
        self._next.drop()
        if self.current is None and self._session.resident is not None:
            self._mixer.reset_level(self._session.resident.start_volume)
        self.end_current(how)
        self.play_next(self.config.volume.fade_in_s if quiet else self.config.volume.change_fade_s)

    def resume_or_next(self) -> None:
        """Play: where the music stopped (same resident, same song, if it still may play),
        else the next song."""
        resident = self._session.resident
        point = self._history.load_resume()
        if resident is not None and point is not None and point.resident_id == resident.id \
                and self.allowed(point.song_id):
            song = library.song_file(self._db, point.song_id, resident.id)
            if song is not None and point.position < song.duration - 3:
                start = max(0.0, point.position - self.config.session.resume_rewind_s)
                if self.play(song, start, self.config.volume.fade_in_s):
                    return
        self.play_next(self.config.volume.fade_in_s)

    def play_next(self, fade_in_s: float) -> None:
        if self._session.resident is None:
            self.go_quiet("There is no resident to play for.")
            return
        for _ in range(MOST_TRIES):
            song_id = self._tracklist.next_id()
            if song_id is None:
                break
            song = library.song_file(self._db, song_id, self._session.resident.id)
            if song is not None and self.play(song, 0.0, fade_in_s):
                return
        self.go_quiet(self._session.nothing_reason())

    def previous(self) -> None:
        """Back a song while one plays; on the first song, that song from its start."""
        current = self.current
        assert current is not None
        self._next.drop()
        before = self._tracklist.back(current.song.id)
        self.end_current(PlayEnd.PREVIOUS)
        fade = self.config.volume.change_fade_s
        if before is None:
            self._tracklist.again()
            self.play(current.song, 0.0, fade)
            return
        resident = self._session.resident
        song = library.song_file(self._db, before, resident.id if resident else None)
        if song is None or not self.allowed(before) or not self.play(song, 0.0, fade):
            self.play_next(fade)

    def play(self, song: library.SongFile, start_s: float, fade_in_s: float) -> bool:
        """Start a song; False (and the song marked) when its file is missing. Music that
        starts with no session running starts one, whatever started it."""
        path = self.config.media_path / song.filename
        if not path.is_file():
            self.mark_unplayable(song, "The song's file is missing from the media folder.")
            return False
        if self._session.ends is None:
            self._session.start_timer()
        self._next.drop()
        self._mixer.begin_song(fade_in_s)
        token = self._player.play(path, start_s, self._gain_db(song))
        self._begin(song, path, token, start_s)
        return True

    def _gain_db(self, song: library.SongFile) -> float:
        """The song's gain toward the one loudness every song plays at (0 when unmeasured)."""
        figures = sound.get(self._db, song.id)
        return figures.gain_db() if figures is not None else 0.0

    def _begin(self, song: library.SongFile, path: Path, token: int, start_s: float) -> None:
        """A song is on its way to the output: its play in the history, its place in the
        tracklist, the current song."""
        resident = self._session.resident
        assert resident is not None
        started = self._clock()
        # Written once the sound is on its way: a press is heard as soon as it can be.
        play_id = self._history.start(resident.id, song.id)
        theirs = library.standing(self._db, resident.id, song.id).theirs
        self.current = Current(song, path, token, play_id, start_s, started, position=start_s, theirs=theirs)
        self._tracklist.started(song.id)
        self.state = PlaybackState.PLAYING
        self._session.quiet_reason = None
        self._next_save = self._clock() + self.config.session.save_every_s
        where = f" from {start_s:.0f} s" if start_s > 0 else ""
        self._say(f"Playing for {resident.name}: {song.describe()}{where}")

    # ---- the next song, ready before this one ends -----------------------------------------

    def _follow(self, queued: Queued, t: float) -> None:
        """The song made ready has begun: the one before it finished."""
        self._next.queued = None
        self._next.prepared_for = None
        self.end_current(PlayEnd.FINISHED)
        self._begin(queued.song, queued.path, queued.token, 0.0)
        assert self.current is not None
        self.current.playing_since = t

    # ---- stopping ---------------------------------------------------------------------

    def fade_out(self, seconds: float, how: PlayEnd) -> None:
        if self.current is None:
            return
        self.state = PlaybackState.STOPPING
        self._session.stop_timer()
        self._pending_finish = None
        self._next.drop()
        self._mixer.fade_out(seconds, lambda: self.stop_now(how))

    def cancel_stop(self) -> None:
        """Play during a fade out: the music comes back, and a new session begins."""
        self.state = PlaybackState.PLAYING
        self._mixer.fade_back(self.config.volume.change_fade_s)
        self._session.start_timer()

    def stop_now(self, how: PlayEnd) -> None:
        current = self.current
        if current is not None and how in (PlayEnd.STOPPED, PlayEnd.SESSION_END):
            self._save_resume(current)
        self.end_current(how)
        self._next.drop()
        self._player.stop()
        self.state = PlaybackState.STOPPED
        self._mixer.silence()
        self._session.stop_timer()

    def end_current(self, how: PlayEnd) -> None:
        current = self.current
        if current is None:
            return
        self.current = None
        self._pending_finish = None
        if how is PlayEnd.FINISHED:
            heard = max(0.0, current.song.duration - current.start_offset)
        else:
            heard = max(0.0, max(current.position, self._player.position(current.token)) - current.start_offset)
        self._history.end(current.play_id, heard, how)
        if how in _CLEARS_RESUME:
            self._history.clear_resume()

    def go_quiet(self, reason: str) -> None:
        self._next.drop()
        self._player.stop()
        self.state = PlaybackState.STOPPED
        self._mixer.silence()
        self._session.stop_timer()
        self._session.quiet_reason = reason
        self._say(reason)

    def check_current(self) -> None:
        """After a library change: a song red-flagged, taken from the resident or deleted
        while it plays stops now, with the red flag's quick fade, and is never resumed."""
        current, resident = self.current, self._session.resident
        if current is None or resident is None:
            return
        if self._next.queued is not None and not self.allowed(self._next.queued.song.id):
            self._next.drop(put_back=False)
        now = library.standing(self._db, resident.id, current.song.id)
        if now.never_play:
            how, words = PlayEnd.RED_FLAG, "red-flagged"
        elif not now.exists:
            how, words = PlayEnd.STOPPED, "removed"
        elif current.theirs and not now.theirs:
            how, words = PlayEnd.REMOVED, "taken out of their songs"
        else:
            return
        self._say(f"Stopping {current.song.describe()}: it was {words}.")
        self.fade_out(self.config.volume.red_flag_fade_s, how)
        self._history.clear_resume()

    # ---- the player's news ------------------------------------------------------------

    def player_event(self, event: PlayerEvent) -> None:
        queued = self._next.queued
        if queued is not None and event.token == queued.token:
            if event.kind is PlayerEventKind.PLAYING:
                queued.began = event.t                   # in the stream; heard a moment later
            elif event.kind is PlayerEventKind.ERROR:
                self._next.queued = None
                self.mark_unplayable(queued.song, "The file could not be played.")
                if self.current is not None:
                    self._next.prepare(self.current.token)     # another, at once
            return
        current = self.current
        if current is None or event.token != current.token:
            return                                   # a stopped song's late news
        if event.kind is PlayerEventKind.PLAYING:
            current.playing_since = event.t
            self._player.apply_volume()
        elif event.kind is PlayerEventKind.ERROR:
            self._failed(current, "The file could not be played.")
        elif event.kind is PlayerEventKind.ENDED:
            self._ended(current, event.t)

    def _ended(self, current: Current, t: float) -> None:
        ran = t - current.started
        expected = current.song.duration - current.start_offset
        if ran < EARLY_END_S and expected > 2.0:
            if current.start_offset > 0:
                self._from_the_start(current)
            else:
                self._failed(current, "The file ended at once without any sound.")
            return
        # VLC says "ended" about a file-caching before the last sound: let it drain, timed
        # from when the audio started, not from play(): a slow start on a busy CPU must not
        # shorten the drain and cut off the song's last notes.
        heard = t - (current.playing_since or current.started)
        drain = min(max(0.0, expected - heard), self.config.audio.file_caching_ms / 1000 + 0.2)
        self._pending_finish = self._clock() + drain

    def _failed(self, current: Current, reason: str) -> None:
        if current.start_offset > 0:
            self._from_the_start(current)
            return
        self.end_current(PlayEnd.ERROR)
        self.mark_unplayable(current.song, reason)
        self.play_next(self.config.volume.change_fade_s)

    def _from_the_start(self, current: Current) -> None:
        """Some formats cannot start part-way: the same play goes on, from the start."""
        log.info("Could not resume %s part-way; playing it from the start.", current.song.title)
        self._mixer.begin_song(self.config.volume.change_fade_s)
        current.token = self._player.play(current.path, 0.0, self._gain_db(current.song))
        current.start_offset = current.position = 0.0
        current.started = self._clock()
        current.playing_since = None

    def mark_unplayable(self, song: library.SongFile, reason: str) -> None:
        log.warning("Skipping %s: %s", song.describe(), reason)
        try:
            library.mark_unplayable(self._db, song.id, reason)
        except sqlite3.Error as exc:   # a full disk: skip it now, mark it another time
            log.error("Could not mark %s as unplayable: %s", song.describe(), exc)
        self._tracklist.forget(song.id)

    # ---- saving and the loop ----------------------------------------------------------

    def _save_resume(self, current: Current) -> None:
        resident = self._session.resident
        if resident is not None:
            position = max(current.position, self._player.position(current.token))
            self._history.save_resume(ResumePoint(resident.id, current.song.id, position))

    def _save_progress(self) -> None:
        self._next_save = self._clock() + self.config.session.save_every_s
        current, resident = self.current, self._session.resident
        if current is not None and resident is not None:
            self._history.progress(current.play_id, current.position - current.start_offset,
                                   ResumePoint(resident.id, current.song.id, current.position))

    def due(self, now: float) -> float | None:
        times = []
        if self.state is PlaybackState.PLAYING:
            times += [now + TICK_PLAYING_S, self._next_save]
        if (self._next.queued is not None and self._next.queued.began is not None) or self._player.starting:
            times.append(now + FOLLOW_CHECK_S)
        if self._pending_finish is not None:
            times.append(self._pending_finish)
        return min(times) if times else None

    def tick(self, now: float) -> None:
        queued = self._next.queued
        if queued is not None and queued.began is not None and self._player.token_at_output() == queued.token:
            self._follow(queued, now)
        current = self.current
        if self.state is PlaybackState.PLAYING and current is not None:
            current.position = max(current.position, self._player.position(current.token))
            if now >= self._next_save:
                self._save_progress()
            # Only once this song has begun: until then, what follows a song that gives no
            # sound is the kiosk's decision (the same song from its start, or another).
            next_song = self._next
            if next_song.queued is None and next_song.prepared_for != current.token \
                    and current.playing_since is not None and current.position >= current.song.duration - PREPARE_S:
                self._next.prepare(current.token)
        self._player.tidy()
        if self._pending_finish is not None and now >= self._pending_finish:
            self._pending_finish = None
            self.end_current(PlayEnd.FINISHED)
            self.play_next(fade_in_s=0.0)
        if self._session.over(now) and self.state is PlaybackState.PLAYING:
            self._session.stop_timer()
            self._say("The session is over: fading out.")
            self.fade_out(self.config.volume.session_fade_out_s, PlayEnd.SESSION_END)
