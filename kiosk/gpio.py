"""Buttons and lights on the Raspberry Pi's pins, through the RPi.GPIO API.

On current Raspberry Pi OS that API comes from rpi-lgpio. Buttons are wired from the pin
to ground with the internal pull-up on, so a press reads LOW. The edge callback runs on
the GPIO library's thread and only posts a `ButtonEvent`; debouncing is the gesture
recogniser's job, so every edge is passed on.
"""
from __future__ import annotations

import importlib
import logging
import time
from types import ModuleType
from typing import Callable

from kiosk.actions import ButtonEvent
from kiosk.config import ButtonConfig

log = logging.getLogger("kiosk.gpio")


def load_gpio(enabled: str) -> ModuleType | None:
    """The RPi.GPIO module, or None when it is off or not on a Pi ("auto")."""
    if enabled == "off":
        return None
    try:
        return importlib.import_module("RPi.GPIO")
    except (ImportError, RuntimeError) as exc:
        if enabled == "on":
            raise RuntimeError(f"GPIO is switched on in the settings but cannot be used here ({exc}).") from None
        log.info("No GPIO here (%s); buttons come from keys, the terminal and the panel.", exc)
        return None


class GpioPanel:
    """The physical buttons (inputs) and the ready/playing lights (outputs)."""

    def __init__(
        self,
        gpio: ModuleType,
        buttons: dict[str, ButtonConfig],
        post: Callable[[ButtonEvent], None],
        *,
        ready_led: int = -1,
        playing_led: int = -1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gpio = gpio
        self._post = post
        self._clock = clock
        self._pins = {b.gpio: name for name, b in buttons.items() if b.gpio >= 0}
        self._ready = ready_led
        self._playing = playing_led

    def start(self) -> None:
        g = self._gpio
        g.setmode(g.BCM)
        for pin in self._pins:
            g.setup(pin, g.IN, pull_up_down=g.PUD_UP)
            g.add_event_detect(pin, g.BOTH, callback=self._edge)
        for pin in (self._ready, self._playing):
            if pin >= 0:
                g.setup(pin, g.OUT, initial=g.LOW)

    def _edge(self, channel: int) -> None:
        name = self._pins.get(channel)
        if name is not None:
            self._post(ButtonEvent(name, self._gpio.input(channel) == self._gpio.LOW, self._clock()))

    def set_ready(self, on: bool) -> None:
        if self._ready >= 0:
            self._gpio.output(self._ready, self._gpio.HIGH if on else self._gpio.LOW)

    def set_playing(self, on: bool) -> None:
        if self._playing >= 0:
            self._gpio.output(self._playing, self._gpio.HIGH if on else self._gpio.LOW)

    def close(self) -> None:
        g = self._gpio
        for pin in self._pins:
            try:
                g.remove_event_detect(pin)
            except Exception:  # pragma: no cover - best effort at exit
                pass
        g.cleanup()
