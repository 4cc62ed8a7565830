"""USB keyboards and arcade-button encoders, read through evdev.

Cheap arcade kits appear as keyboards, so each button is a key; the config maps key names
(KEY_SPACE, KEY_1, ...) to buttons. Key down/up become the same `ButtonEvent`s as GPIO
edges, so the same gestures apply; the keyboard's own auto-repeat is ignored.
"""
from __future__ import annotations

import logging
import select
import threading
import time
from typing import Callable

from kiosk.actions import ButtonEvent
from kiosk.config import ButtonConfig

log = logging.getLogger("kiosk.keys")

RESCAN_S = 3.0


def key_map(buttons: dict[str, ButtonConfig]) -> dict[str, str]:
    """Key name -> button name."""
    return {key: name for name, b in buttons.items() for key in b.keys}


class KeyInput:
    def __init__(
        self,
        devices: str | list[str],
        buttons: dict[str, ButtonConfig],
        post: Callable[[ButtonEvent], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import evdev  # imported here: only needed where there are keyboards

        self._evdev = evdev
        self._wanted = devices
        self._keys = key_map(buttons)
        self._codes = {evdev.ecodes.ecodes[k]: b for k, b in self._keys.items() if k in evdev.ecodes.ecodes}
        unknown = sorted(k for k in self._keys if k not in evdev.ecodes.ecodes)
        if unknown:
            log.warning("Unknown key names in the settings, ignored: %s", ", ".join(unknown))
        self._post = post
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _open(self) -> list:
        paths = self._evdev.list_devices() if self._wanted == "auto" else list(self._wanted)
        found = []
        for path in paths:
            try:
                dev = self._evdev.InputDevice(path)
            except OSError:
                continue
            keys = set(dev.capabilities().get(self._evdev.ecodes.EV_KEY, []))
            if keys & set(self._codes):
                found.append(dev)
            else:
                dev.close()
        return found

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kiosk-keys", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        devices: list = []
        next_scan = 0.0
        while not self._stop.is_set():
            if not devices and time.monotonic() >= next_scan:
                devices = self._open()
                next_scan = time.monotonic() + RESCAN_S
                for d in devices:
                    log.info("Reading buttons from %s (%s)", d.path, d.name)
            if not devices:
                self._stop.wait(0.5)
                continue
            ready, _, _ = select.select(devices, [], [], 0.5)
            for dev in ready:
                try:
                    for event in dev.read():
                        self._event(event)
                except OSError:                   # unplugged: drop it, rescan later
                    devices.remove(dev)
                    dev.close()

    def _event(self, event) -> None:
        if event.type != self._evdev.ecodes.EV_KEY or event.value == 2:
            return
        name = self._codes.get(event.code)
        if name is not None:
            self._post(ButtonEvent(name, event.value == 1, self._clock()))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)
