"""Filenames as staff find them on a USB stick, and years as tags write them."""
import pytest

from content.tags import display_text, parse_filename, parse_year


@pytest.mark.parametrize(
    "name, artist, title",
    [
        ("03 - Vera Lynn - We'll Meet Again (Remastered 2005).mp3", "Vera Lynn", "We'll Meet Again"),
        ("01. Daisy Bell.mp3", "", "Daisy Bell"),
        ("03 Daisy Bell.mp3", "", "Daisy Bell"),
        ("Glenn_Miller_-_In_The_Mood_[Live].flac", "Glenn Miller", "In The Mood"),
        ("1-03 Bing Crosby - White Christmas (Mono).mp3", "Bing Crosby", "White Christmas"),
        ("7 Nat King Cole – Unforgettable.wav", "Nat King Cole", "Unforgettable"),
        ("99 Luftballons.mp3", "", "99 Luftballons"),
        ("Nena - 99 Luftballons.mp3", "Nena", "99 Luftballons"),
        ("12_Frank_Sinatra_-_My_Way.mp3", "Frank Sinatra", "My Way"),
        ("Doris Day - Que Sera, Sera (Whatever Will Be, Will Be) [2001 Digital Remaster].ogg",
         "Doris Day", "Que Sera, Sera (Whatever Will Be, Will Be)"),
    ],
)
def test_parse_filename(name, artist, title):
    guess = parse_filename(name)
    assert (guess.artist, guess.title) == (artist, title)


@pytest.mark.parametrize("text, year", [("1942", 1942), ("1942-05-01", 1942), ("05/1958", 1958),
                                        ("", None), ("19420", None), ("3000", None), ("c. 1899", 1899)])
def test_parse_year(text, year):
    assert parse_year(text) == year


def test_display_text_removes_control_characters_and_bounds_length():
    assert display_text("a\x00b\nc\td") == "a b c d"
    assert len(display_text("x" * 1000)) == 200
