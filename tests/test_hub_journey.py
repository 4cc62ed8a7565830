"""The whole hub journey with real parts: a hub (waitress), and two music boxes on this
machine, each with its own kiosk process (VLC writing to a file) and its own sync agent
process.

Box A plays for Mary, box B for Bob. Staff press Play for box A on the hub (through the
box's channel) and see it playing there; a new song for Mary reaches box A and never box B;
a red flag on the hub stops Mary's song on box A; with the hub stopped both boxes play on,
and the plays made meanwhile reach the hub exactly once after it comes back.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from content import control
from content.hub import boxes
from content import curation as edits
from tests.hubkit import Box, Hub, wait_for
from tests.test_kiosk_process import Notifications, write_config

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


class RealBox(Box):
    """A box with its kiosk and its sync agent as the services run them."""

    procs: list[subprocess.Popen]

    def run(self, tmp: Path) -> None:
        self.procs = []
        notify = Notifications(tmp / f"{self.data.name}.notify")
        cfg = write_config(tmp / f"{self.data.name}.toml", self.data, tmp / f"{self.data.name}.wav")
        env = {**ENV, "NOTIFY_SOCKET": str(notify.path)}
        self.procs.append(subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(cfg)], cwd=ROOT,
                                           env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                           stderr=open(tmp / f"{self.data.name}-kiosk.log", "w")))
        notify.wait("READY=1", 30)
        self.start_sync(tmp)

    def start_sync(self, tmp: Path) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "content.sync", "--wait", "20"], cwd=ROOT,
                                env={**ENV, "EVERGREEN_DATA": str(self.data)}, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=open(tmp / f"{self.data.name}-sync.log", "a"))
        self.procs.append(proc)
        return proc

    def status(self) -> dict:
        try:
            return control.status(self.data / "kiosk.sock").get("status") or {}
        except control.KioskUnreachable:
            return {}

    def playing(self) -> int | None:
        s = self.status()
        return (s.get("song") or {}).get("id") if s.get("state") == "playing" else None

    def press(self, action: str) -> None:
        assert control.press(self.data / "kiosk.sock", action).get("ok")

    def ended_plays(self) -> list[tuple]:
        return self.db.execute("SELECT resident_id, song_id, started_at, ended_how FROM plays "
                               "WHERE ended_at IS NOT NULL ORDER BY id").fetchall()

    def stop(self) -> None:
        for p in getattr(self, "procs", []):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in getattr(self, "procs", []):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        self.close()


def test_two_boxes_follow_the_hub_play_on_without_it_and_nothing_is_lost_or_doubled(tmp_path):
    hub = Hub(tmp_path / "hub").start()
    a, b = RealBox(tmp_path / "box-a"), RealBox(tmp_path / "box-b")
    try:
        home = hub.home("Rose House")
        mary, bob = hub.resident("Mary", home), hub.resident("Bob", home, 1931)
        m1 = hub.song(mary, 440, "Mary One", seconds=30)
        m2 = hub.song(mary, 550, "Mary Two", seconds=30)
        hub.song(bob, 660, "Bob One", seconds=30)
        hub.song(bob, 770, "Bob Two", seconds=30)
        box_a, code_a = hub.box(home, "Lounge", [mary])
        _, code_b = hub.box(home, "Room 12", [bob])
        assert a.join(hub.url, code_a)[0] == 0 and b.join(hub.url, code_b)[0] == 0
        a.run(tmp_path)
        b.run(tmp_path)
        wait_for(lambda: len(a.songs(mary.id)) == 2 and len(b.songs(bob.id)) == 2, 30, "both boxes have their songs")

        # Staff press Play for box A on the hub: the command goes through the box's channel,
        # and the hub shows it playing.
        boxes.add_command(hub.db, box_a.id, "play")
        wait_for(a.playing, 20, "box A plays after Play was pressed on the hub")
        wait_for(lambda: (boxes.get_box(hub.db, box_a.id).now_playing or {}).get("state") == "playing", 20,
                 "the hub shows box A playing")
        b.press("play")
        wait_for(b.playing, 20, "box B plays")

        # A new song for Mary reaches box A, never box B.
        m3 = hub.song(mary, 880, "Mary Three", seconds=30)
        sha3 = hub.db.execute("SELECT sha256 FROM songs WHERE id = ?", [m3]).fetchone()[0]
        wait_for(lambda: any(s.song_id == m3 for s in a.songs(mary.id)), 30, "the new song is on box A")
        assert not any(n.startswith(sha3) for n in b.files())
        assert b.db.execute("SELECT COUNT(*) FROM songs WHERE id = ?", [m3]).fetchone()[0] == 0

        # A red flag on the hub stops the song playing on box A.
        flagged = wait_for(a.playing, 10, "box A is playing")
        edits.set_red_flag(hub.db, mary.id, flagged, on=True, reason="upset", user_id=None, by_staff=True,
                           resident_name="Mary")
        wait_for(lambda: a.playing() != flagged, 15, "the flagged song stopped on box A")
        wait_for(lambda: any(p[1] == flagged and p[3] == "red_flag" for p in a.ended_plays()), 15,
                 "box A recorded the red-flag stop")
        assert flagged in (m1, m2, m3)
        assert flagged not in [x.song_id for x in a.songs(mary.id) if not x.never_play]
        a.press("play")
        wait_for(a.playing, 10, "box A plays Mary's other songs")

        # The hub goes away: both boxes keep playing, and plays made meanwhile are kept.
        hub.stop()
        for box in (a, b):
            before = len(box.ended_plays())
            wait_for(box.playing, 10, "the box still plays with the hub down")
            box.press("next")
            wait_for(lambda: len(box.ended_plays()) > before, 10, "a play ended while the hub was down")
            wait_for(box.playing, 10, "the box plays on with the hub down")
        hub.start()

        # Everything the boxes played reaches the hub, each play once.
        def arrived() -> bool:
            hub_plays = hub.db.execute("SELECT resident_id, song_id, started_at, ended_how FROM plays "
                                       "ORDER BY started_at").fetchall()
            box_plays = sorted(a.ended_plays() + b.ended_plays(), key=lambda p: p[2])
            return hub_plays == box_plays and hub_plays
        wait_for(arrived, 60, "every play on both boxes arrived at the hub exactly once")
        assert len({p[0] for p in hub.db.execute("SELECT started_at FROM plays")}) == \
            hub.db.execute("SELECT COUNT(*) FROM plays").fetchone()[0]
    finally:
        a.stop()
        b.stop()
        hub.close()
