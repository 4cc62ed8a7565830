"""The python-vlc wrapper on its own: a box that plays for months must not keep every
song it ever played."""
from __future__ import annotations

import gc

import vlc

from kiosk.config import from_dict
from kiosk.player import Player
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
