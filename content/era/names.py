"""Which part of an "A - B" file name is the title: the catalogue decides.

File names are "Artist - Title" more often than not, so that is the reading when the
catalogue does not know the song; but "Rock Around The Clock - Bill Haley.wav" is the other
way round, and a song the catalogue knows tells us so. The person's own words are kept
(only their order is decided), and tags, when a file has them, come first in ingest."""
from __future__ import annotations

from rapidfuzz import fuzz

from content import tags
from content.era.match import Matcher, default_matcher
from content.era.normalise import normalise_title


def read_name(name: str, matcher: Matcher | None = None) -> tags.NameGuess:
    guess = tags.parse_filename(name)
    if not (guess.title and guess.artist):
        return guess
    found = (matcher or default_matcher()).match(f"{guess.artist} - {guess.title}")
    if found is None:
        return guess
    known = normalise_title(found.title)
    def closeness(part: str) -> float:
        full, short = normalise_title(part)
        return max(fuzz.ratio(full, known[0]), fuzz.ratio(short, known[1]))
    if closeness(guess.artist) > closeness(guess.title):
        return tags.NameGuess(title=guess.artist, artist=guess.title)
    return guess
