"""The controller: what the kiosk's one thread (`kiosk.loop`) does with each message, given
to the small parts that own each concern (Mopidy's way):

  kiosk.playback   the song playing now, its history, the player's events
  kiosk.mixer      level, cap and fades
  kiosk.tracklist  what comes next and what came before
  kiosk.session    the resident, their limits, the session timer, the library watch
  kiosk.staff      what staff do at the box: choose the resident, log a reaction, a care task
  kiosk.status     the one status value the admin reads
  kiosk.lights     the box's two lights

Each part says when it next needs waking (a debounce settling, a fade step, the end of a
song or session, the library check), so a release is acted on the moment it settles.
"""
from __future__ import annotations

import datetime as _dt
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import sqlite_utils

from content.plays import History, PlayEnd
from content.sdnotify import SdNotify
from kiosk.actions import PANEL_BUTTONS, PHYSICAL, Action, ActionError, ButtonEvent, for_gesture, for_press
from kiosk.config import KioskConfig
from kiosk.gestures import Gestures
from kiosk.lights import Indicator, Lights, NoLights
from kiosk.loop import LibraryChanged, Loop, Quit, StatusRequest
from kiosk.mixer import Mixer
from kiosk.playback import Playback, PlaybackState, PlayerLike
from kiosk.player import PlayerEvent
from kiosk.session import Session, local_now
from kiosk.staff import Staff
from kiosk.status import KioskStatus
from kiosk.tracklist import Tracklist

log = logging.getLogger("kiosk")

WATCHDOG_S = 2.0


@dataclass
class Controller(Loop):
    """Construct with its collaborators, then `run()` in the thread that will own VLC
    (or `start()` for a new thread). `db_factory` and `player_factory` are called from
    that thread, where the parts are built."""

    config: KioskConfig
    db_factory: Callable[[], sqlite_utils.Database]
    player_factory: Callable[[Callable[[PlayerEvent], None]], PlayerLike]
    lights: Lights = field(default_factory=NoLights)
    notifier: SdNotify = field(default_factory=SdNotify)
    run_shutdown: Callable[[tuple[str, ...]], None] | None = None
    say: Callable[[str], None] = log.info
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    wall: Callable[[], _dt.datetime] = local_now      # the box's local time, for the times of day

    def __post_init__(self) -> None:
        self._start_loop()
        self._db: sqlite_utils.Database | None = None
        self._player: PlayerLike | None = None
        self._indicator = Indicator()
        self._gestures = Gestures.for_config(self.config)

    def press(self, text: str, source: str = "panel") -> None:
        """A named button or an action from the panel, terminal or CLI. Raises ActionError
        for a name the kiosk does not know."""
        self.post(for_press(self.config.buttons, text, source))

    # ---- the loop's parts --------------------------------------------------------------

    def _arm(self) -> None:
        self._done = self._quitting = False
        self._db = db = self.db_factory()
        history = History(db)
        self._player = self.player_factory(self.post)
        self.mixer = Mixer(self.config.volume, self._player, self.clock)
        self.tracklist = Tracklist(db, history, self.rng)
        self.session = Session(self.config, db, history, self.mixer, self.tracklist, self.clock, self.wall)
        self.playback = Playback(self.config, db, history, self._player, self.mixer, self.tracklist,
                                 self.session, self.clock, self.say)
        self.staff = Staff(db, self.session, self.playback, self.clock, self.say)
        now = self.clock()
        self._next_watchdog = now
        closed = history.close_unfinished()
        if closed:
            log.info("Closed %d play(s) left open by a power cut.", closed)
        self.session.choose_resident()
        self._show(now)
        self.notifier.ready()
        log.info("Kiosk ready%s.", f" for {self.session.resident.name}" if self.session.resident else "")

    def _next_due(self, now: float) -> float:
        times = [now + WATCHDOG_S, self._next_watchdog, self.session.due()]
        for part in (self._gestures.due(), self.mixer.due(now), self.playback.due(now),
                     self._indicator.due(self._blinking)):
            if part is not None:
                times.append(part)
        return min(times)

    def _handle(self, message: Any) -> None:
        if isinstance(message, ButtonEvent):
            for gesture in self._gestures.edge(message):
                self._gesture(gesture)
        elif isinstance(message, Action):
            self._act(message)
        elif isinstance(message, PlayerEvent):
            self.playback.player_event(message)
        elif isinstance(message, StatusRequest):
            message.reply.put(self._status().as_dict())
        elif isinstance(message, LibraryChanged):
            self._check_library(force=True)
        elif isinstance(message, Quit):
            self._begin_quit()

    def _tick(self, now: float) -> None:
        for gesture in self._gestures.advance(now):
            self._gesture(gesture)
        self.mixer.tick(now)
        self.playback.tick(now)
        if self.session.check_due(now):
            self._check_library()
            self.session.check_mode(now)
        if now >= self._next_watchdog:
            self._next_watchdog = now + WATCHDOG_S
            self.notifier.watchdog()
        if self._quitting and self.playback.state is PlaybackState.STOPPED and not self.mixer.fading:
            self._done = True
        self._show(now)

    # ---- gestures and actions ---------------------------------------------------------

    def _gesture(self, gesture: Any) -> None:
        try:
            action = for_gesture(self.config.buttons, gesture.button, gesture.kind)
        except ActionError as exc:
            log.warning("%s", exc)
            return
        if action is not None:
            self._act(action)

    def _act(self, action: Action) -> None:
        if self._quitting:
            return
        log.debug("action %s from %s", action, action.source)
        name, playback, state = action.name, self.playback, self.playback.state
        if name == "play" and state is PlaybackState.STOPPING:
            playback.cancel_stop()
        elif name in ("play", "stop") and state is PlaybackState.PLAYING:
            playback.fade_out(self.config.volume.fade_out_s, PlayEnd.STOPPED)
        elif name == "play" or (name == "previous" and playback.current is None):
            playback.start()
        elif name == "previous":
            playback.previous()
        elif name in ("next", "decade"):
            if name == "decade":
                self.tracklist.set_decade(int(action.arg) if action.arg else None)
            playback.skip()
        elif name in ("volume_up", "volume_down"):
            self.say(f"Volume {self.mixer.step(name == 'volume_up'):.0f} (cap {self.mixer.cap:.0f}).")
        elif name == "resident":
            self.staff.switch_resident(action.arg)
        elif name == "react":
            self.staff.react()
        elif name == "care_task":
            self.staff.care_task()
        elif name == "shutdown" and action.source.startswith(PHYSICAL):   # only a hold on the box
            self._shutdown()
        elif name == "shutdown":
            log.warning("Ignored a shutdown from %s: only a hold on the box's own button powers it off.",
                        action.source or "an unknown source")

    # ---- the library ------------------------------------------------------------------

    def _check_library(self, force: bool = False) -> None:
        if not self.session.check_library(self.clock(), force):
            return
        if self.session.resident is None:          # removed, or there was none yet
            if self.playback.current is not None:
                self.playback.stop_now(PlayEnd.STOPPED)
            self.session.choose_resident()
            return
        self.playback.check_current()
        self.session.requeue(playing=self.playback.current is not None)

    # ---- lights, status, quitting -----------------------------------------------------

    @property
    def _blinking(self) -> bool:
        return self.session.quiet_reason is not None and self.session.resident is not None

    def _show(self, now: float) -> None:
        self._indicator.show(self.lights, playing=self.playback.state is not PlaybackState.STOPPED,
                             ready=self.session.quiet_reason is None and self.session.resident is not None,
                             blinking=self._blinking, now=now)

    def _status(self) -> KioskStatus:
        return KioskStatus.of(self._db, self.playback, self.session, self.mixer, self.tracklist, self.clock(),
                              PANEL_BUTTONS)

    def _shutdown(self) -> None:
        self.say("Staff hold: fading out and shutting down.")
        self._quitting = True
        if self.playback.current is not None:
            self.playback.fade_out(self.config.volume.session_fade_out_s, PlayEnd.STOPPED)
            self.mixer.after_fade(self._run_shutdown)
        else:
            self._run_shutdown()

    def _run_shutdown(self) -> None:
        command = tuple(self.config.shutdown_command)
        if self.run_shutdown is not None and command:
            try:
                self.run_shutdown(command)
            except Exception:
                log.exception("The shutdown command failed")
        self._done = True

    def _begin_quit(self) -> None:
        if self._quitting and self.mixer.fading:
            return
        self._quitting = True
        self.notifier.stopping()
        if self.playback.current is not None and self.playback.state is not PlaybackState.STOPPED:
            self.playback.fade_out(min(self.config.volume.fade_out_s, self.config.volume.quit_fade_s), PlayEnd.STOPPED)
        else:
            self._done = True

    def _close(self) -> None:
        playback = getattr(self, "playback", None)
        try:
            if playback is not None and playback.current is not None:
                playback.stop_now(PlayEnd.STOPPED)
        except Exception:
            log.exception("Could not record the last play")
        if self._player is not None:
            self._player.close()
        self._indicator.off(self.lights)
        if self._db is not None:
            self._db.close()
