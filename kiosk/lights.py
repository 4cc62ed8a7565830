"""The two lights on the box: "playing" while music plays or fades out, "ready" when a
press will start music. "Ready" blinks when the box cannot play (no songs, no resident),
so staff see at a glance that something needs doing."""
from __future__ import annotations

from typing import Protocol

BLINK_S = 0.5


class Lights(Protocol):
    def set_ready(self, on: bool) -> None: ...
    def set_playing(self, on: bool) -> None: ...


class NoLights:
    def set_ready(self, on: bool) -> None:
        pass

    def set_playing(self, on: bool) -> None:
        pass


class Indicator:
    """Drives `Lights` from the kiosk's state, touching them only when they change."""

    def __init__(self) -> None:
        self._shown: tuple[bool, bool] | None = None
        self._blink_on = False
        self._next_blink = 0.0

    def show(self, lights: Lights, *, playing: bool, ready: bool, blinking: bool, now: float) -> None:
        if blinking:
            if now >= self._next_blink:
                self._next_blink = now + BLINK_S
                self._blink_on = not self._blink_on
            ready = self._blink_on
        if (playing, ready) != self._shown:
            lights.set_playing(playing)
            lights.set_ready(ready)
            self._shown = (playing, ready)

    def due(self, blinking: bool) -> float | None:
        return self._next_blink if blinking else None

    def off(self, lights: Lights) -> None:
        lights.set_playing(False)
        lights.set_ready(False)
        self._shown = (False, False)
