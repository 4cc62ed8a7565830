"""Which part of an "A - B" file name is the title: the catalogue decides, and a name it
does not know is read as "Artist - Title"."""
from __future__ import annotations

import pytest

from content import ingest, library
from content.era.names import read_name
from tests.audio import write_song


@pytest.mark.parametrize("name, title, artist", [
    ("Rock Around The Clock - Bill Haley.wav", "Rock Around The Clock", "Bill Haley"),
    ("Bill Haley - Rock Around The Clock.wav", "Rock Around The Clock", "Bill Haley"),
    ("03 - Que Sera, Sera - Doris Day.mp3", "Que Sera, Sera", "Doris Day"),
    ("Vera Lynn - We'll Meet Again (Remastered 2005).mp3", "We'll Meet Again", "Vera Lynn"),
    ("Aunt May - Our Wedding Song.m4a", "Our Wedding Song", "Aunt May"),    # unknown: artist first
    ("Moonlight Serenade.mp3", "Moonlight Serenade", ""),
])
def test_the_catalogue_decides_which_part_is_the_title(name, title, artist):
    guess = read_name(name)
    assert (guess.title, guess.artist) == (title, artist)


def test_an_untagged_upload_named_title_first_gets_its_title_right(lib, mary, tmp_path):
    path = write_song(tmp_path / "Rock Around The Clock - Bill Haley.wav", 440, 3)
    result = ingest.ingest_file(lib.db, lib.media, path, resident_id=mary.id, min_seconds=1.0)
    assert (result.title, result.artist) == ("Rock Around The Clock", "Bill Haley")
    [song] = library.resident_songs(lib.db, mary.id)
    assert song.year == 1954
