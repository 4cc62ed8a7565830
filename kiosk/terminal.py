"""Single keys in the terminal under `make run`: the buttons for a laptop."""
from __future__ import annotations

import os
import sys
import termios
import threading
import tty
from typing import Callable, TextIO

KEYS = {" ": "play", "n": "next", "p": "previous", "+": "volume_up", "=": "volume_up", "-": "volume_down",
        "g": "react", "c": "care_task"}
HELP = ("Keys: space = play/stop, n = next, p = previous, + / - = volume, g = something good (a reaction), "
        "c = before a care task, q = quit.")


class TerminalInput:
    def __init__(self, stream: TextIO, press: Callable[[str], None], quit: Callable[[], None]) -> None:
        self._stream = stream
        self._press = press
        self._quit = quit
        self._saved: list | None = None

    @staticmethod
    def available(stream: TextIO = sys.stdin) -> bool:
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    def start(self) -> None:
        fd = self._stream.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)                      # single keys, but Ctrl-C still interrupts
        threading.Thread(target=self._run, name="kiosk-terminal", daemon=True).start()

    def _run(self) -> None:
        fd = self._stream.fileno()
        while True:
            try:
                data = os.read(fd, 1)
            except OSError:
                return
            if not data:
                return
            key = data.decode(errors="ignore").lower()
            if key == "q":
                self._quit()
                return
            action = KEYS.get(key)
            if action:
                self._press(action)

    def close(self) -> None:
        if self._saved is not None:
            termios.tcsetattr(self._stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None
