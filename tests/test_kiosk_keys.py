"""USB keyboards and arcade encoders through evdev. Key events are evdev's own objects;
a real virtual keyboard (uinput) is used where the machine allows it."""
from __future__ import annotations

import os
import queue
import shutil
import stat
import subprocess

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


UINPUT_MINOR = 223          # /dev/uinput is the misc character device 10:223


@pytest.fixture
def uinput_node(tmp_path):
    """A path to the kernel's uinput device. Where /dev/uinput is missing and the tests run
    as root, load the module or make a device node; skip only when the kernel has no uinput."""
    if os.access("/dev/uinput", os.W_OK):
        return "/dev/uinput"
    if os.geteuid() != 0:
        pytest.skip("no writable /dev/uinput here, and not root to make one")
    modprobe = shutil.which("modprobe")
    if modprobe:
        subprocess.run([modprobe, "uinput"], capture_output=True, check=False)
        if os.access("/dev/uinput", os.W_OK):
            return "/dev/uinput"
    node = tmp_path / "uinput"
    os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(10, UINPUT_MINOR))
    try:
        os.close(os.open(node, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as exc:
        pytest.skip(f"this kernel has no uinput to make a virtual keyboard ({exc.strerror})")
    return str(node)


def test_a_virtual_usb_keyboard_presses_a_button(uinput_node):
    posted: queue.Queue = queue.Queue()
    with evdev.UInput({ecodes.EV_KEY: [ecodes.KEY_N]}, name="evergreen-test-keypad", devnode=uinput_node) as ui:
        keys = KeyInput([ui.device.path], KioskConfig().buttons, posted.put)
        keys.start()
        try:
            ui.write(ecodes.EV_KEY, ecodes.KEY_N, 1)
            ui.write(ecodes.EV_KEY, ecodes.KEY_N, 0)
            ui.syn()
            first, second = posted.get(timeout=10), posted.get(timeout=10)
        finally:
            keys.close()
    assert (first.button, first.pressed, second.pressed) == ("next", True, False)
