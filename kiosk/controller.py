"""The controller: one thread that owns VLC, the session and the kiosk's state.

Everything else (GPIO and evdev callbacks, the terminal, the control socket, VLC's own
events) only calls `post()`, which puts a message on this thread's queue. The loop sleeps
until a message arrives or something is due (a debounce settling, a fade step, the end of
a song or session, the library check), so a release is acted on the moment its debounce
settles.
"""
from __future__ import annotations

import logging
import queue
import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import sqlite_utils

from content import library
from content.db import data_version
from content.queue import next_songs
from kiosk.actions import PANEL_BUTTONS, Action, ActionError, ButtonEvent, parse_action
from kiosk.config import KioskConfig
from kiosk.gestures import Gestures, Timings
from content.plays import History, ResumePoint
from kiosk.player import PlayerEvent
from kiosk.sdnotify import SdNotify

log = logging.getLogger("kiosk")

TICK_PLAYING_S = 0.25        # re-apply the volume and track the position this often
FADE_STEP_S = 0.02
LIBRARY_POLL_S = 1.0
WATCHDOG_S = 2.0
BLINK_S = 0.5
EARLY_END_S = 1.0            # "ended" sooner than this after starting means no audio
RECENT = 10
PHYSICAL = "button "         # the source of an action from a physical button's gesture


class PlayerLike(Protocol):
    def play(self, path: Path, start_s: float = 0.0) -> int: ...
    def stop(self) -> None: ...
    def set_volume(self, level: float) -> None: ...
    def apply_volume(self) -> bool: ...
    def position(self) -> float: ...
    def close(self) -> None: ...


class Lights(Protocol):
    def set_ready(self, on: bool) -> None: ...
    def set_playing(self, on: bool) -> None: ...


class NoLights:
    def set_ready(self, on: bool) -> None:
        pass

    def set_playing(self, on: bool) -> None:
        pass


@dataclass(frozen=True)
class Song:
    id: int
    title: str
    artist: str
    year: int | None
    duration: float
    path: Path

    def describe(self) -> str:
        text = self.title
        if self.artist:
            text += f" - {self.artist}"
        if self.year:
            text += f" ({self.year})"
        return text


@dataclass
class _Fade:
    start: float
    end: float
    t0: float
    seconds: float
    then: Callable[[], None] | None = None

    def level(self, now: float) -> float:
        if self.seconds <= 0:
            return self.end
        k = min(1.0, max(0.0, (now - self.t0) / self.seconds))
        return self.start + (self.end - self.start) * k

    def done(self, now: float) -> bool:
        return now >= self.t0 + self.seconds


@dataclass
class _Current:
    song: Song
    token: int
    play_id: int | None                  # None when the history could not be written
    start_offset: float
    started: float                       # monotonic time play() was called
    playing_since: float | None = None
    position: float = 0.0


@dataclass(frozen=True)
class _Quit:
    pass


@dataclass(frozen=True)
class _LibraryChanged:
    pass


@dataclass(frozen=True)
class _Status:
    reply: "queue.Queue[dict[str, Any]]"


@dataclass
class Controller:
    """Construct with its collaborators, then `run()` in the thread that will own VLC
    (or `start()` for a new thread). `db_factory` and `player_factory` are called from
    that thread."""

    config: KioskConfig
    db_factory: Callable[[], sqlite_utils.Database]
    player_factory: Callable[[Callable[[PlayerEvent], None]], PlayerLike]
    lights: Lights = field(default_factory=NoLights)
    notifier: SdNotify = field(default_factory=SdNotify)
    run_shutdown: Callable[[tuple[str, ...]], None] | None = None
    say: Callable[[str], None] = log.info
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._inbox: queue.Queue[Any] = queue.Queue()
        self.armed = threading.Event()
        self.finished = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        holds = frozenset(name for name, b in self.config.buttons.items() if b.hold)
        g = self.config.gestures
        self._gestures = Gestures(
            Timings(g.debounce_ms / 1000, g.min_press_ms / 1000, g.repeat_guard_ms / 1000, g.hold_ms / 1000),
            holds,
        )

    # ---- called from any thread -------------------------------------------------------

    def post(self, message: ButtonEvent | Action | PlayerEvent | Any) -> None:
        self._inbox.put(message)

    def press(self, text: str, source: str = "panel") -> None:
        """A named button or an action from the panel, terminal or CLI. Raises ActionError
        for a name the kiosk does not know."""
        button = self.config.buttons.get(text)
        if button is not None:
            if not button.press:
                raise ActionError(f"The {text} button has no press action.")
            action = parse_action(button.press, source)
        else:
            action = parse_action(text, source)
        if action.name == "shutdown":
            # Only a long hold on the box itself powers it off: nothing on the network or the
            # control socket can (see _act).
            raise ActionError("Powering off is done on the box itself, by holding the staff button.")
        self.post(action)

    def library_changed(self) -> None:
        self.post(_LibraryChanged())

    def quit(self) -> None:
        self.post(_Quit())

    def status(self, timeout: float = 2.0) -> dict[str, Any]:
        reply: queue.Queue[dict[str, Any]] = queue.Queue()
        self.post(_Status(reply))
        return reply.get(timeout=timeout)

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="kiosk-controller", daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return self.finished.wait(timeout)

    # ---- the loop ---------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._arm()
            while not self._done:
                now = self.clock()
                timeout = max(0.0, self._next_due(now) - now)
                try:
                    message = self._inbox.get(timeout=timeout)
                except queue.Empty:
                    message = None
                if message is not None:
                    self._handle(message)
                self._tick(self.clock())
        except BaseException as exc:  # the service restarts us; say why first
            self.error = exc
            log.exception("The kiosk controller stopped on an error")
            raise
        finally:
            self._close()
            self.finished.set()

    def _arm(self) -> None:
        self._done = False
        self._quitting = False
        self._db = self.db_factory()
        self._history = History(self._db)
        self._player = self.player_factory(self.post)
        self._state = "stopped"                  # playing | stopping | stopped
        self._current: _Current | None = None
        self._fade: _Fade | None = None
        self._volume = 0.0
        self._cap = float(self.config.volume.cap)
        self._session_ends: float | None = None
        self._pending_finish: float | None = None
        self._decade: int | None = None
        self._upcoming: list[int] = []
        self._played: list[int] = []
        self._quiet_reason: str | None = None
        self._resident: library.Resident | None = None
        self._failures = 0
        now = self.clock()
        self._next_library_check = now + LIBRARY_POLL_S
        self._next_watchdog = now
        self._next_save = now
        self._next_blink = now
        self._blink_on = False
        closed = self._history.close_unfinished()
        if closed:
            log.info("Closed %d play(s) left open by a power cut.", closed)
        self._data_version = data_version(self._db)
        self._choose_resident()
        self._refresh_lights()
        self.armed.set()
        self.notifier.ready()
        log.info("Kiosk ready%s.", f" for {self._resident.name}" if self._resident else "")

    def _next_due(self, now: float) -> float:
        times = [now + WATCHDOG_S, self._next_library_check, self._next_watchdog]
        due = self._gestures.due()
        if due is not None:
            times.append(due)
        if self._fade is not None:
            times.append(now + FADE_STEP_S)
        if self._state == "playing":
            times.append(now + TICK_PLAYING_S)
            times.append(self._next_save)
        if self._pending_finish is not None:
            times.append(self._pending_finish)
        if self._session_ends is not None:
            times.append(self._session_ends)
        if self._quiet_reason is not None and self._resident is not None:
            times.append(self._next_blink)
        return min(times)

    def _handle(self, message: Any) -> None:
        if isinstance(message, ButtonEvent):
            for gesture in self._gestures.edge(message):
                self._gesture(gesture)
        elif isinstance(message, Action):
            self._act(message)
        elif isinstance(message, PlayerEvent):
            self._player_event(message)
        elif isinstance(message, _Status):
            message.reply.put(self._status())
        elif isinstance(message, _LibraryChanged):
            self._check_library(force=True)
        elif isinstance(message, _Quit):
            self._begin_quit()

    def _tick(self, now: float) -> None:
        for gesture in self._gestures.advance(now):
            self._gesture(gesture)
        if self._fade is not None:
            fade = self._fade
            self._player.set_volume(fade.level(now))
            if fade.done(now):
                self._fade = None
                if fade.then is not None:
                    fade.then()
        if self._state == "playing" and self._current is not None:
            self._current.position = max(self._current.position, self._player.position())
            self._player.apply_volume()
            if now >= self._next_save:
                self._save_progress()
        if self._pending_finish is not None and now >= self._pending_finish:
            self._pending_finish = None
            self._end_current("finished")
            self._play_next(fade_in_s=0.0)
        if self._session_ends is not None and now >= self._session_ends and self._state == "playing":
            self._session_ends = None
            self.say("The session is over: fading out.")
            self._fade_out(self.config.volume.session_fade_out_s, "session_end")
        if now >= self._next_library_check:
            self._check_library()
        if now >= self._next_watchdog:
            self._next_watchdog = now + WATCHDOG_S
            self.notifier.watchdog()
        if self._quiet_reason is not None and self._resident is not None and now >= self._next_blink:
            self._next_blink = now + BLINK_S
            self._blink_on = not self._blink_on
            self.lights.set_ready(self._blink_on)

    # ---- gestures and actions ---------------------------------------------------------

    def _gesture(self, gesture: Any) -> None:
        button = self.config.buttons.get(gesture.button)
        if button is None:
            return
        text = button.press if gesture.kind == "press" else button.hold
        if not text:
            return
        try:
            self._act(parse_action(text, source=f"{PHYSICAL}{gesture.button}"))
        except ActionError as exc:
            log.warning("%s", exc)

    def _act(self, action: Action) -> None:
        if self._quitting:
            return
        log.debug("action %s from %s", action, action.source)
        name = action.name
        if name == "play":
            if self._state == "playing":
                self._fade_out(self.config.volume.fade_out_s, "stopped")
            elif self._state == "stopping":
                self._cancel_stop()
            else:
                self._start()
        elif name == "stop":
            if self._state == "playing":
                self._fade_out(self.config.volume.fade_out_s, "stopped")
        elif name == "next":
            if self._current is not None:
                self._end_current("next")
            self._play_next(fade_in_s=self.config.volume.fade_in_s if self._state == "stopped" else 0.5)
        elif name == "previous":
            self._previous()
        elif name in ("volume_up", "volume_down"):
            step = self.config.volume.step * (1 if name == "volume_up" else -1)
            # Never all the way down: music turned to nothing looks like a broken box.
            floor = min(float(self.config.volume.step), self._cap)
            self._volume = min(self._cap, max(floor, self._volume + step))
            if self._fade is not None and self._fade.end > self._fade.start:
                self._fade.end = self._volume            # a fade in now heads for the new level
            elif self._state == "playing" and self._fade is None:
                self._player.set_volume(self._volume)
            self.say(f"Volume {self._volume:.0f} (cap {self._cap:.0f}).")
        elif name == "resident":
            self._switch_resident(action.arg)
        elif name == "decade":
            self._decade = int(action.arg) if action.arg else None
            self._upcoming = []
            if self._current is not None:
                self._end_current("next")
            self._play_next(fade_in_s=self.config.volume.fade_in_s if self._state == "stopped" else 0.5)
        elif name == "playlist":
            log.info("Playlists are not available yet (%s).", action.arg)
        elif name == "shutdown":
            if action.source.startswith(PHYSICAL):
                self._shutdown()
            else:
                log.warning("Ignored a shutdown from %s: only a hold on the box's own button powers it off.",
                            action.source or "an unknown source")

    # ---- starting and stopping --------------------------------------------------------

    def _start(self) -> None:
        """Play: resume where the music stopped (same resident, same song), else the next song."""
        if self._resident is None:
            self._choose_resident()
            if self._resident is None:
                return
        self._volume = self._start_volume()
        minutes = self._resident.session_minutes or self.config.session.minutes
        self._session_ends = self.clock() + minutes * 60 if minutes else None
        point = self._history.load_resume()
        if point is not None and point.resident_id == self._resident.id and self._allowed(point.song_id):
            song = self._song(point.song_id)
            if song is not None and point.position < song.duration - 3:
                start = max(0.0, point.position - self.config.session.resume_rewind_s)
                if self._play(song, start, fade_in_s=self.config.volume.fade_in_s):
                    return
        self._play_next(fade_in_s=self.config.volume.fade_in_s)

    def _start_volume(self) -> float:
        start = self._resident.start_volume if self._resident and self._resident.start_volume is not None else self.config.volume.start
        return float(min(self._cap, max(0, start)))

    def _fade_out(self, seconds: float, how: str) -> None:
        if self._current is None:
            return
        self._state = "stopping"
        self._session_ends = None
        self._pending_finish = None
        level = self._fade.level(self.clock()) if self._fade else self._volume

        def done() -> None:
            self._stop_now(how)

        self._fade = _Fade(level, 0.0, self.clock(), seconds, done)

    def _cancel_stop(self) -> None:
        level = self._fade.level(self.clock()) if self._fade else 0.0
        self._state = "playing"
        self._fade = _Fade(level, self._volume, self.clock(), 0.5)
        minutes = (self._resident.session_minutes if self._resident else None) or self.config.session.minutes
        self._session_ends = self.clock() + minutes * 60 if minutes else None
        self._refresh_lights()

    def _stop_now(self, how: str) -> None:
        current = self._current
        if current is not None and how in ("stopped", "session_end"):
            self._save_resume(current)
        self._end_current(how)
        self._player.stop()
        self._state = "stopped"
        self._fade = None
        self._session_ends = None
        self._refresh_lights()
        if self._quitting:
            self._done = True

    def _end_current(self, how: str) -> None:
        current = self._current
        if current is None:
            return
        self._current = None
        self._pending_finish = None
        if how == "finished":
            heard = max(0.0, current.song.duration - current.start_offset)
        else:
            heard = max(0.0, max(current.position, self._player.position()) - current.start_offset)
        self._history.end(current.play_id, heard, how)
        if how in ("finished", "next", "previous", "session_end", "red_flag", "error"):
            # The resume point follows the music: after a finished or skipped song, Play
            # starts the next one.
            if how != "session_end":
                self._history.clear_resume()

    # ---- choosing and playing songs ---------------------------------------------------

    def _play_next(self, fade_in_s: float) -> None:
        if self._resident is None:
            self._go_quiet("There is no resident to play for.")
            return
        tried = 0
        while True:
            song_id = self._next_song_id()
            if song_id is None:
                self._go_quiet(self._nothing_reason())
                return
            song = self._song(song_id)
            if song is None:
                tried += 1
            elif self._play(song, 0.0, fade_in_s):
                return
            else:
                tried += 1
            if tried > 200:
                self._go_quiet(self._nothing_reason())
                return

    def _next_song_id(self) -> int | None:
        if not self._upcoming:
            self._refill()
        return self._upcoming.pop(0) if self._upcoming else None

    def _refill(self) -> None:
        assert self._resident is not None
        recent = self._played[-RECENT:]
        self._upcoming = next_songs(self._db, self._resident.id, self.rng, recent=recent, decade=self._decade)
        if not self._upcoming and self._decade is not None:
            log.info("No songs from the %ds for %s: playing all of their songs.", self._decade, self._resident.name)
            self._decade = None
            self._upcoming = next_songs(self._db, self._resident.id, self.rng, recent=recent)

    def _play(self, song: Song, start_s: float, fade_in_s: float) -> bool:
        """Start a song; False (and the song marked) when its file is missing."""
        assert self._resident is not None
        if not song.path.is_file():
            self._mark_unplayable(song, "The song's file is missing from the media folder.")
            return False
        play_id = self._history.start(self._resident.id, song.id)
        if fade_in_s > 0:
            level = 0.0
            self._fade = _Fade(0.0, self._volume, self.clock(), fade_in_s)
        else:
            level = self._volume
            self._fade = None
        self._player.set_volume(level)
        token = self._player.play(song.path, start_s)
        self._current = _Current(song, token, play_id, start_s, self.clock(), position=start_s)
        self._played.append(song.id)
        self._state = "playing"
        self._quiet_reason = None
        self._next_save = self.clock() + self.config.session.save_every_s
        self._refresh_lights()
        where = f" from {start_s:.0f} s" if start_s > 0 else ""
        self.say(f"Playing for {self._resident.name}: {song.describe()}{where}")
        return True

    def _previous(self) -> None:
        if self._current is not None and len(self._played) >= 2:
            current = self._current.song.id
            before = self._played[-2]
            self._end_current("previous")
            self._played = self._played[:-2]
            self._upcoming.insert(0, current)
            song = self._song(before)
            if song is not None and self._allowed(before) and self._play(song, 0.0, 0.5):
                return
            self._play_next(0.5)
        elif self._current is not None:
            song = self._current.song
            self._end_current("previous")
            self._played.pop()
            self._play(song, 0.0, 0.5)
        else:
            self._start()

    def _player_event(self, event: PlayerEvent) -> None:
        current = self._current
        if current is None or event.token != current.token:
            return                                   # a stopped song's late news
        if event.kind == "playing":
            current.playing_since = event.t
            self._player.apply_volume()
            self._failures = 0
        elif event.kind == "error":
            self._failed(current, "The file could not be played.")
        elif event.kind == "ended":
            ran = event.t - current.started
            expected = current.song.duration - current.start_offset
            if ran < EARLY_END_S and expected > 2.0:
                if current.start_offset > 0:
                    # Some formats cannot start part-way: play the song from its start.
                    # The same play goes on, from the start.
                    log.info("Could not resume %s part-way; playing it from the start.", current.song.title)
                    self._fade = _Fade(0.0, self._volume, self.clock(), 0.5)
                    self._player.set_volume(0.0)
                    current.token = self._player.play(current.song.path, 0.0)
                    current.start_offset = 0.0
                    current.position = 0.0
                    current.started = self.clock()
                    current.playing_since = None
                else:
                    self._failed(current, "The file ended at once without any sound.")
                return
            # VLC says "ended" about a file-caching before the last sound: let it drain.
            # Timed from when the audio started, not from play(): a slow start on a busy
            # CPU must not shorten the drain and cut off the song's last notes.
            heard = event.t - (current.playing_since or current.started)
            remaining = max(0.0, expected - heard)
            drain = min(remaining, self.config.audio.file_caching_ms / 1000 + 0.2)
            self._pending_finish = self.clock() + drain

    def _failed(self, current: _Current, reason: str) -> None:
        self._player.stop()
        self._end_current("error")
        self._mark_unplayable(current.song, reason)
        self._failures += 1
        self._play_next(fade_in_s=0.5)

    def _mark_unplayable(self, song: Song, reason: str) -> None:
        log.warning("Skipping %s: %s", song.describe(), reason)
        try:
            library.mark_unplayable(self._db, song.id, reason)
        except sqlite3.Error as exc:   # a full disk: skip it now, mark it another time
            log.error("Could not mark %s as unplayable: %s", song.describe(), exc)
        self._upcoming = [s for s in self._upcoming if s != song.id]

    def _go_quiet(self, reason: str) -> None:
        self._player.stop()
        self._state = "stopped"
        self._fade = None
        self._session_ends = None
        self._quiet_reason = reason
        self.say(reason)
        self._refresh_lights()

    def _nothing_reason(self) -> str:
        name = self._resident.name if self._resident else "this resident"
        songs = self._db.execute(
            "SELECT COUNT(*), SUM(s.unplayable), SUM(rs.never_play) FROM resident_songs rs "
            "JOIN songs s ON s.id = rs.song_id WHERE rs.resident_id = ?",
            [self._resident.id if self._resident else -1],
        ).fetchone()
        total = songs[0] or 0
        if total == 0:
            return f"{name} has no songs in the library yet."
        return f"None of {name}'s songs can be played: each is set to never play or its file cannot be played."

    # ---- the library ------------------------------------------------------------------

    def _song(self, song_id: int) -> Song | None:
        row = self._db.execute(
            "SELECT id, title, artist, year, duration, sha256, ext FROM songs WHERE id = ?", [song_id]
        ).fetchone()
        if not row:
            return None
        path = self.config.media_path / f"{row[5]}.{row[6]}"
        return Song(row[0], row[1], row[2] or "", row[3], float(row[4] or 0), path)

    def _allowed(self, song_id: int) -> bool:
        if self._resident is None:
            return False
        row = self._db.execute(
            "SELECT rs.never_play, s.unplayable FROM resident_songs rs JOIN songs s ON s.id = rs.song_id "
            "WHERE rs.resident_id = ? AND rs.song_id = ?",
            [self._resident.id, song_id],
        ).fetchone()
        return bool(row) and not row[0] and not row[1]

    def _check_library(self, force: bool = False) -> None:
        self._next_library_check = self.clock() + LIBRARY_POLL_S
        version = data_version(self._db)
        if version == self._data_version and not force:
            return
        self._data_version = version
        if self._resident is not None:
            try:
                self._resident = library.get_resident(self._db, self._resident.id)
            except library.LibraryError:
                log.info("The resident this kiosk played for was removed.")
                if self._current is not None:
                    self._stop_now("stopped")
                self._resident = None
        if self._resident is None:
            self._choose_resident()
            return
        self._apply_resident_limits()
        current = self._current
        if current is not None:
            flag = self._db.execute(
                "SELECT rs.never_play FROM resident_songs rs WHERE rs.resident_id = ? AND rs.song_id = ?",
                [self._resident.id, current.song.id],
            ).fetchone()
            exists = self._db.execute("SELECT 1 FROM songs WHERE id = ?", [current.song.id]).fetchone()
            # A song without a resident_songs row can be decade radio's top-up from another
            # resident's library: it stops only when it is red-flagged or deleted.
            red_flag = bool(flag and flag[0])
            if red_flag or not exists:
                how = "red_flag" if red_flag else "stopped"
                self.say(f"Stopping {current.song.describe()}: it was {'red-flagged' if red_flag else 'removed'}.")
                self._state = "playing"
                self._fade_out(self.config.volume.red_flag_fade_s, how)
                self._history.clear_resume()
        # New songs and red flags reach the queue now, not at the next refill.
        self._refill()
        if self._quiet_reason is not None and self._upcoming:
            self._quiet_reason = None
            self._refresh_lights()
        elif self._current is None and not self._upcoming and self._resident is not None:
            self._quiet_reason = self._nothing_reason()
            self._refresh_lights()

    def _choose_resident(self) -> None:
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
                self._resident = None
                self._quiet_reason = (f"This kiosk is set to play for {self.config.resident}, "
                                      f"but there is no resident called {self.config.resident} in the library.")
                return
        if chosen is None:
            residents = library.list_residents(self._db)
            if not residents:
                self._resident = None
                self._quiet_reason = "There are no residents in the library yet."
                return
            chosen = residents[0]
        self._set_resident(chosen)

    def _set_resident(self, resident: library.Resident) -> None:
        self._resident = resident
        self._apply_resident_limits()
        self._volume = self._start_volume()
        self._upcoming = []
        self._played = []
        self._refill()
        self._quiet_reason = None if self._upcoming else self._nothing_reason()

    def _apply_resident_limits(self) -> None:
        cap = float(self.config.volume.cap)
        if self._resident is not None and self._resident.volume_cap is not None:
            cap = min(cap, float(self._resident.volume_cap))
        self._cap = max(0.0, cap)
        if self._volume > self._cap:
            self._volume = self._cap
            if self._state == "playing" and self._fade is None:
                self._player.set_volume(self._volume)

    def _switch_resident(self, name: str) -> None:
        resident = library.find_resident(self._db, name)
        if resident is None:
            log.warning("There is no resident called %s.", name)
            return
        if self._current is not None:
            self._stop_now("stopped")
        self._history.save("resident_id", resident.id)
        self._decade = None
        self._set_resident(resident)
        self.say(f"Now playing for {resident.name}.")
        self._start()

    # ---- saving, lights, status, quitting ---------------------------------------------

    def _save_resume(self, current: _Current) -> None:
        assert self._resident is not None
        position = max(current.position, self._player.position())
        self._history.save_resume(ResumePoint(self._resident.id, current.song.id, position))

    def _save_progress(self) -> None:
        self._next_save = self.clock() + self.config.session.save_every_s
        current = self._current
        if current is None or self._resident is None:
            return
        position = current.position
        self._history.progress(current.play_id, position - current.start_offset,
                               ResumePoint(self._resident.id, current.song.id, position))

    def _refresh_lights(self) -> None:
        self.lights.set_playing(self._state in ("playing", "stopping"))
        self.lights.set_ready(self._quiet_reason is None and self._resident is not None)

    def _status(self) -> dict[str, Any]:
        current = self._current
        now = self.clock()
        names = [r.name for r in library.list_residents(self._db)]
        decades = [row[0] for row in self._db.execute(
            "SELECT DISTINCT (s.year / 10) * 10 FROM resident_songs rs JOIN songs s ON s.id = rs.song_id "
            "WHERE rs.resident_id = ? AND s.year IS NOT NULL AND rs.never_play = 0 ORDER BY 1",
            [self._resident.id if self._resident else -1],
        )]
        return {
            "state": self._state,
            "resident": self._resident.name if self._resident else None,
            "resident_id": self._resident.id if self._resident else None,
            "song": None if current is None else {
                "id": current.song.id, "title": current.song.title,
                "artist": current.song.artist, "year": current.song.year,
            },
            "position": round(current.position, 1) if current else 0.0,
            "duration": round(current.song.duration, 1) if current else None,
            "volume": round(self._volume),
            "volume_cap": round(self._cap),
            "session_left": round(max(0.0, self._session_ends - now)) if self._session_ends else None,
            "quiet_reason": self._quiet_reason,
            "decade": self._decade,
            "buttons": list(PANEL_BUTTONS) + [f"decade:{d}" for d in decades] + [f"resident:{n}" for n in names],
        }

    def _shutdown(self) -> None:
        self.say("Staff hold: fading out and shutting down.")
        command = tuple(self.config.shutdown_command)

        def after() -> None:
            if self.run_shutdown is not None and command:
                try:
                    self.run_shutdown(command)
                except Exception:
                    log.exception("The shutdown command failed")
            self._done = True

        self._quitting = True
        if self._current is not None:
            self._fade_out(self.config.volume.session_fade_out_s, "stopped")
            assert self._fade is not None
            stop = self._fade.then

            def then() -> None:
                if stop:
                    stop()
                after()

            self._fade.then = then
        else:
            after()

    def _begin_quit(self) -> None:
        if self._quitting and self._fade is not None:
            return
        self._quitting = True
        self.notifier.stopping()
        if self._current is not None and self._state in ("playing", "stopping"):
            self._state = "playing"
            self._fade_out(min(self.config.volume.fade_out_s, 1.0), "stopped")
        else:
            self._done = True

    def _close(self) -> None:
        try:
            if getattr(self, "_current", None) is not None:
                self._stop_now("stopped")
        except Exception:
            log.exception("Could not record the last play")
        player = getattr(self, "_player", None)
        if player is not None:
            player.close()
        self.lights.set_playing(False)
        self.lights.set_ready(False)
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
