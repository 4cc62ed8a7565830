"""A one-line progress bar for long imports in a terminal; silent when not a terminal."""
from __future__ import annotations

import shutil
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.live = stream.isatty()

    def update(self, done: int, label: str) -> None:
        if not self.live:
            return
        width = shutil.get_terminal_size((80, 20)).columns
        bar_width = 24
        filled = int(bar_width * done / self.total)
        text = f"[{'#' * filled}{'.' * (bar_width - filled)}] {done}/{self.total} {label}"
        self.stream.write("\r" + text[: width - 1].ljust(width - 1))
        self.stream.flush()

    def clear(self) -> None:
        if self.live:
            width = shutil.get_terminal_size((80, 20)).columns
            self.stream.write("\r" + " " * (width - 1) + "\r")
            self.stream.flush()
