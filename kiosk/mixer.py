"""The mixer: how loud, never louder than the cap, and every change of level as a fade.

`level` is the resident's chosen level on the cap's 0-100 scale (what the volume buttons
move); what the player hears at a moment is that level, or a fade's point between two
levels. Every fade length is a documented config key ([volume] in kiosk.example.toml).
Called only from the controller's thread; `due()` says when it next needs waking.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from kiosk.config import VolumeConfig

FADE_STEP_S = 0.02


class Output(Protocol):
    """The part of the player the mixer drives."""

    def set_volume(self, level: float) -> None: ...
    def apply_volume(self) -> bool: ...


@dataclass
class Fade:
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


class Mixer:
    def __init__(self, config: VolumeConfig, output: Output, clock: Callable[[], float]) -> None:
        self.config = config
        self._output = output
        self._clock = clock
        self.cap = float(config.cap)
        self.level = 0.0
        self._fade: Fade | None = None
        self._audible = False                  # a song is under way (not stopped)

    # ---- limits -----------------------------------------------------------------------

    def set_cap(self, resident_cap: int | None, *, calm: bool = False) -> None:
        """The kiosk's cap, lowered by the resident's own when they have one, and softer
        for calm music. A level above the new cap fades down to it; a cap raised again
        (calm music over) leaves the level where it is, so nothing gets louder by itself."""
        cap = float(self.config.cap)
        if resident_cap is not None:
            cap = min(cap, float(resident_cap))
        if calm:
            cap *= self.config.calm_factor
        self.cap = max(0.0, cap)
        if self.level > self.cap:
            before, self.level = self.level, self.cap
            if self._audible and self._fade is None:
                self._fade = Fade(before, self.level, self._clock(), self.config.change_fade_s)

    def reset_level(self, resident_start: int | None) -> None:
        """Back to the gentle start level (the resident's own, or the kiosk's)."""
        start = resident_start if resident_start is not None else self.config.start
        self.level = float(min(self.cap, max(0, start)))

    def step(self, up: bool) -> float:
        """One press of volume up or down. Never all the way down: music turned to nothing
        looks like a broken box."""
        step = self.config.step * (1 if up else -1)
        floor = min(float(self.config.step), self.cap)
        self.level = min(self.cap, max(floor, self.level + step))
        if self._fade is not None and self._fade.end > self._fade.start:
            self._fade.end = self.level            # a fade in now heads for the new level
        elif self._audible and self._fade is None:
            self._output.set_volume(self.level)
        return self.level

    # ---- fades ------------------------------------------------------------------------

    def begin_song(self, fade_in_s: float) -> None:
        """Before a song starts: silence then a fade in, or straight to the level."""
        self._audible = True
        if fade_in_s > 0:
            self._fade = Fade(0.0, self.level, self._clock(), fade_in_s)
            self._output.set_volume(0.0)
        else:
            self._fade = None
            self._output.set_volume(self.level)

    def fade_out(self, seconds: float, then: Callable[[], None]) -> None:
        """From wherever the level is now (mid fade in or not) down to silence, then `then`."""
        now = self._clock()
        start = self._fade.level(now) if self._fade else self.level
        self._fade = Fade(start, 0.0, now, seconds, then)

    def fade_back(self, seconds: float) -> None:
        """A fade out called off: back up to the level from where it had got to."""
        now = self._clock()
        start = self._fade.level(now) if self._fade else 0.0
        self._fade = Fade(start, self.level, now, seconds)

    def after_fade(self, then: Callable[[], None]) -> None:
        """Also run `then` when the current fade ends (a shutdown after the fade out)."""
        fade = self._fade
        if fade is None:
            then()
            return
        first = fade.then

        def both() -> None:
            if first is not None:
                first()
            then()

        fade.then = both

    def silence(self) -> None:
        """The player stopped: no fade is running any more."""
        self._fade = None
        self._audible = False

    @property
    def fading(self) -> bool:
        return self._fade is not None

    # ---- the loop ---------------------------------------------------------------------

    def due(self, now: float) -> float | None:
        return now + FADE_STEP_S if self._fade is not None else None

    def tick(self, now: float) -> None:
        fade = self._fade
        if fade is not None:
            self._output.set_volume(fade.level(now))
            if fade.done(now):
                self._fade = None
                if fade.then is not None:
                    fade.then()
        if self._audible:
            # VLC forgets the volume whenever an audio output restarts: re-apply it.
            self._output.apply_volume()
