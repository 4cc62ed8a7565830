"""The python-vlc wrapper on its own: a box that plays for months must not keep every
song it ever played."""
from __future__ import annotations

import gc
import os
import queue
import threading
import time

import vlc

from kiosk.config import from_dict
from kiosk.player import Player, PlayerEventKind
from kiosk.stream import Placed
from tests.audio import write_song


def test_songs_played_before_are_let_go(tmp_path):
    songs = [write_song(tmp_path / f"s{i}.wav", 440 + 110 * i, 2) for i in range(3)]
    audio = from_dict({"data_dir": str(tmp_path), "audio": {"output": "dummy"}}).audio
    player = Player(audio, 70, notify=lambda event: None)
    try:
        for i in range(30):
            player.play(songs[i % 3])
        gc.collect()
        alive = [o for o in gc.get_objects() if isinstance(o, (vlc.Media, vlc.EventManager))]
        # The output's one stream and the song playing now (its decoder), each with its
        # event manager: nothing of the 29 songs before.
        assert len(alive) <= 4, f"{len(alive)} media wrappers still held after 30 songs"
    finally:
        player.close()


def _wait(player, events, done, seconds=20.0):
    """Tidy as the kiosk's loop does until `done(event or None)` holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        player.tidy()
        try:
            event = events.get(timeout=0.01)
        except queue.Empty:
            event = None
        if done(event):
            return
    raise AssertionError("the output did not get there in time")


def test_a_stream_that_plays_for_months_keeps_only_the_song_at_the_output(tmp_path):
    songs = [write_song(tmp_path / f"s{i}.wav", 440 + 110 * i, 4) for i in range(3)]
    audio = from_dict({"data_dir": str(tmp_path), "audio": {"output": "dummy"}}).audio
    events: queue.Queue = queue.Queue()
    player = Player(audio, 70, notify=events.put)
    player.set_volume(50)
    try:
        token = player.play(songs[0])
        _wait(player, events, lambda e: player.token_at_output() == token)
        fds, threads = len(os.listdir("/proc/self/fd")), threading.active_count()
        for i in range(1, 41):                       # Next, Next, Next... in the same stream
            token = player.play(songs[i % 3])
            _wait(player, events, lambda e: e is not None and e.token == token and e.kind is PlayerEventKind.PLAYING)
        _wait(player, events, lambda e: player.token_at_output() == token)
        deadline = time.monotonic() + 5
        while True:                                   # the kiosk's next ticks
            player.tidy()
            gc.collect()
            placed = len([o for o in gc.get_objects() if isinstance(o, Placed)])
            more_fds = len(os.listdir("/proc/self/fd")) - fds
            more_threads = threading.active_count() - threads
            if (placed <= 2 and more_fds <= 2 and more_threads <= 1) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert placed <= 2, f"{placed} songs' places still kept after 40 song changes"
        assert more_fds <= 2, f"{more_fds} more files open: pipes of songs changed away from"
        assert more_threads <= 1, f"{more_threads} more threads: decoders of songs changed away from"
        assert player.position(token) > 0                   # and the song at the output is still known
    finally:
        player.close()
