"""The first run plays something: demo songs made at setup, public-domain and tagged."""
from content import library
from content.demo import DEMO_RESIDENT, TUNES, ensure_demo


def test_an_empty_library_gets_the_demo_resident_and_songs(lib):
    lines = ensure_demo(lib.db, lib.media, seconds=12)
    assert lines[0].startswith("Added the demo resident")
    demo = library.resident_by_name(lib.db, DEMO_RESIDENT)
    songs = library.resident_songs(lib.db, demo.id)
    years = {s.title: s.year for s in songs}
    assert years.keys() == {t.title for t in TUNES}
    # The tag carries the publication year; the catalogue may know the record's year.
    assert all(abs(years[t.title] - t.year) <= 1 for t in TUNES)
    assert all(t.year < 1929 for t in TUNES)          # public domain: published before 1929
    assert all(s.duration >= 11 for s in songs)
    assert ensure_demo(lib.db, lib.media, seconds=12) == []     # does nothing twice


def test_a_library_with_residents_gets_no_demo(lib, mary):
    assert ensure_demo(lib.db, lib.media, seconds=12) == []
    assert [r.name for r in library.list_residents(lib.db)] == ["Mary"]
