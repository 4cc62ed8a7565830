"""A stand-in for the RPi.GPIO module, for tests off the Pi: the same calls, nothing more,
plus `drive(pin, level)` for a test to make an edge and `levels` to read the lights.

Like the real module it keeps its pin state at module level; `cleanup()` clears it.
"""
from __future__ import annotations

import threading

BCM = 11
BOARD = 10
IN = 1
OUT = 0
HIGH = 1
LOW = 0
PUD_OFF = 20
PUD_DOWN = 21
PUD_UP = 22
RISING = 31
FALLING = 32
BOTH = 33

_lock = threading.Lock()
_mode = None
levels: dict[int, int] = {}
_directions: dict[int, int] = {}
_callbacks: dict[int, tuple[int, object]] = {}


def setmode(mode: int) -> None:
    global _mode
    _mode = mode


def getmode():
    return _mode


def setwarnings(flag: bool) -> None:
    pass


def setup(channel: int, direction: int, pull_up_down: int = PUD_OFF, initial: int | None = None) -> None:
    if _mode is None:
        raise RuntimeError("Please set pin numbering mode using GPIO.setmode(GPIO.BOARD) or GPIO.setmode(GPIO.BCM)")
    with _lock:
        _directions[channel] = direction
        if direction == OUT:
            levels[channel] = LOW if initial is None else initial
        else:
            levels[channel] = HIGH if pull_up_down == PUD_UP else LOW


def input(channel: int) -> int:
    return levels[channel]


def output(channel: int, value: int) -> None:
    if _directions.get(channel) != OUT:
        raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
    levels[channel] = HIGH if value else LOW


def add_event_detect(channel: int, edge: int, callback=None, bouncetime: int | None = None) -> None:
    if _directions.get(channel) != IN:
        raise RuntimeError("You must setup() the GPIO channel as an input first")
    if channel in _callbacks:
        raise RuntimeError("Conflicting edge detection already enabled for this GPIO channel")
    _callbacks[channel] = (edge, callback)


def remove_event_detect(channel: int) -> None:
    _callbacks.pop(channel, None)


def cleanup(channel=None) -> None:
    global _mode
    with _lock:
        if channel is None:
            levels.clear()
            _directions.clear()
            _callbacks.clear()
            _mode = None
        else:
            levels.pop(channel, None)
            _directions.pop(channel, None)
            _callbacks.pop(channel, None)


def drive(channel: int, level: int) -> None:
    """Test side: the outside world sets an input pin's level; edge callbacks fire as on
    the real library (on the caller's thread here)."""
    before = levels.get(channel)
    levels[channel] = level
    if before == level or channel not in _callbacks:
        return
    edge, callback = _callbacks[channel]
    rising = level == HIGH
    if edge == BOTH or (edge == RISING and rising) or (edge == FALLING and not rising):
        if callback is not None:
            callback(channel)
