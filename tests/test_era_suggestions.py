"""Songs from a resident's teenage years that are not in their library yet."""
from __future__ import annotations

from content import library
from content.era.suggestions import era_suggestions
from content.ingest import ingest_file
from tests.audio import write_song


def test_suggests_well_known_songs_from_the_teenage_years(lib, mary):
    found = era_suggestions(lib.db, mary.id)
    assert (found.year_from, found.year_to) == (1951, 1957)        # born 1938: 13 to 19
    assert len(found.songs) == 20
    assert all(1951 <= s["year"] <= 1957 for s in found.songs)
    assert {"title": "Heartbreak Hotel", "artist": "Elvis Presley", "year": 1956} in found.songs
    titles = [s["title"].casefold() for s in found.songs]
    assert len(titles) == len(set(titles))
    assert len(era_suggestions(lib.db, mary.id, limit=5).songs) == 5


def test_songs_already_in_the_library_are_not_suggested_even_spelt_differently(lib, mary, tmp_path):
    before = era_suggestions(lib.db, mary.id, limit=40).songs
    assert any(s["title"] == "Heartbreak Hotel" for s in before)
    src = write_song(tmp_path / "hh.ogg", 440, 3.0, tags={"title": "heartbreak hotel (remastered 2002)", "artist": "Elvis"})
    assert ingest_file(lib.db, lib.media, src, resident_id=mary.id, min_seconds=1).status == "added"
    after = era_suggestions(lib.db, mary.id, limit=40).songs
    assert not any("heartbreak" in s["title"].casefold() for s in after)
    assert len(after) == 40


def test_no_birth_year_means_no_teenage_years(lib):
    someone = library.add_resident(lib.db, "Alf")
    found = era_suggestions(lib.db, someone.id)
    assert (found.year_from, found.year_to, found.songs) == (None, None, [])
