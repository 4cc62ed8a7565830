"""`make run`: the kiosk in a terminal reads single keys, prints its help and one line per
song, and leaves the terminal as it found it on q or Ctrl-C."""
from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.test_kiosk_support import add_song

ROOT = Path(__file__).resolve().parent.parent


class Terminal:
    def __init__(self, cfg: Path) -> None:
        self.master, slave = pty.openpty()
        self.settings = termios.tcgetattr(slave)
        self.slave = slave
        self.proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(cfg)], cwd=ROOT,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)},
                                     stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        self.text = ""

    def expect(self, words: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while words not in self.text:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{words!r} never appeared; the terminal shows:\n{self.text}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    self.text += os.read(self.master, 4096).decode(errors="replace")
                except OSError:
                    pass

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def terminal(lib, mary, tmp_path):
    add_song(lib, mary, 440, 6, title="Moon River")
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'data_dir = "{lib.data}"\nshutdown_command = []\n[audio]\noutput = "dummy"\n'
                   '[volume]\nfade_in_s = 0.2\nfade_out_s = 0.2\n[gpio]\nenabled = "off"\n[keyboard]\ndevices = "off"\n')
    t = Terminal(cfg)
    yield t
    t.close()


def test_keys_play_and_q_quits_cleanly(terminal, lib):
    terminal.expect("space = play/stop")
    terminal.type(" ")
    terminal.expect("Playing for Mary: Moon River")
    terminal.type("+")
    terminal.expect("Volume 45")
    terminal.type("q")
    assert terminal.proc.wait(15) == 0
    assert termios.tcgetattr(terminal.slave)[3] == terminal.settings[3], "the terminal is back in its normal mode"
    assert lib.db.execute("SELECT ended_how FROM plays").fetchall() == [("stopped",)]


def test_ctrl_c_saves_the_resume_point_and_exits(terminal, lib):
    terminal.expect("space = play/stop")
    terminal.type(" ")
    terminal.expect("Playing for Mary")
    os.killpg(terminal.proc.pid, signal.SIGINT)
    assert terminal.proc.wait(15) == 0
    assert lib.db.execute("SELECT COUNT(*) FROM kiosk_state WHERE key = 'resume'").fetchone()[0] == 1
