"""USB keyboards and arcade encoders through evdev. Key events are evdev's own objects;
a real virtual keyboard (uinput) is used where the machine allows it."""
from __future__ import annotations

import os
import queue

import evdev
import pytest
from evdev import ecodes

from kiosk.config import KioskConfig
from kiosk.keys import KeyInput, key_map


def key_input(posted):
    return KeyInput("off", KioskConfig().buttons, posted.put)


def test_default_keys_map_to_the_default_buttons():
    keys = key_map(KioskConfig().buttons)
    assert keys["KEY_SPACE"] == "play" and keys["KEY_N"] == "next"
    assert keys["KEY_UP"] == "volume_up" and keys["KEY_DOWN"] == "volume_down"
    assert all(k in ecodes.ecodes for k in keys), "every default key name is a real evdev key"


def test_key_down_and_up_become_button_edges_and_auto_repeat_is_ignored():
    posted: queue.Queue = queue.Queue()
    keys = key_input(posted)
    for value in (1, 2, 2, 0):                        # down, two auto-repeats, up
        keys._event(evdev.InputEvent(0, 0, ecodes.EV_KEY, ecodes.KEY_SPACE, value))
    keys._event(evdev.InputEvent(0, 0, ecodes.EV_KEY, ecodes.KEY_Z, 1))      # not a button
    keys._event(evdev.InputEvent(0, 0, ecodes.EV_SYN, 0, 0))
    got = [posted.get_nowait() for _ in range(posted.qsize())]
    assert [(e.button, e.pressed) for e in got] == [("play", True), ("play", False)]


@pytest.mark.skipif(not os.access("/dev/uinput", os.W_OK), reason="no /dev/uinput here to make a virtual keyboard")
def test_a_virtual_usb_keyboard_presses_a_button():
    posted: queue.Queue = queue.Queue()
    with evdev.UInput({ecodes.EV_KEY: [ecodes.KEY_N]}, name="evergreen-test-keypad") as ui:
        keys = KeyInput([ui.device.path], KioskConfig().buttons, posted.put)
        keys.start()
        try:
            ui.write(ecodes.EV_KEY, ecodes.KEY_N, 1)
            ui.write(ecodes.EV_KEY, ecodes.KEY_N, 0)
            ui.syn()
            first, second = posted.get(timeout=5), posted.get(timeout=5)
        finally:
            keys.close()
    assert (first.button, first.pressed, second.pressed) == ("next", True, False)
