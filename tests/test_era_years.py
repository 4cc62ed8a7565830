"""Original years: family > catalogue > tag > file name, stored with how they were decided,
redone when the names or the catalogue change; the CLI that shows and fixes them."""
from __future__ import annotations

import json

import pytest

from content import cli, library
from content.db import LibraryError, write
from content.era import catalogue as era_catalogue
from content.era import years
from content.era.catalogue import Entry
from content.era.match import Matcher
from content.ingest import ingest_file
from tests.audio import write_song


def add(lib, resident, tmp_path, name: str, tags: dict | None = None, freq: float = 440.0) -> int:
    src = write_song(tmp_path / "in" / name, freq, 3.0, fmt=".ogg", tags=tags)
    result = ingest_file(lib.db, lib.media, src, resident_id=resident.id, original_name=name, min_seconds=1)
    assert result.status == "added", result.reason
    return result.song_id


def song(lib, song_id: int) -> dict:
    """The (one) resident entry for this song, with the file's tag year."""
    return next(lib.db.query("SELECT rs.*, s.tag_year FROM resident_songs rs JOIN songs s ON s.id = rs.song_id "
                             "WHERE rs.song_id = ?", [song_id]))


def rename(lib, resident, song_id: int, title: str, artist: str) -> None:
    with write(lib.db):
        lib.db.execute("UPDATE resident_songs SET title = ?, artist = ? WHERE resident_id = ? AND song_id = ?",
                       [title, artist, resident.id, song_id])


def test_a_compilation_year_gives_way_to_the_catalogue(lib, mary, tmp_path):
    sid = add(lib, mary, tmp_path, "track01.ogg",
              {"title": "We'll Meet Again (Remastered 2005)", "artist": "Vera Lynn", "date": "2005"})
    row = song(lib, sid)
    assert (row["year"], row["year_source"]) == (1939, "catalogue")
    assert row["tag_year"] == 2005
    assert row["year_confidence"] >= 90
    decision = lib.db["entry_year_decisions"].get((mary.id, sid))
    assert (decision["match_title"], decision["match_artist"], decision["match_year"]) == (
        "We'll Meet Again", "Vera Lynn", 1939)


def test_an_untagged_file_is_matched_by_its_name(lib, mary, tmp_path):
    sid = add(lib, mary, tmp_path, "03_-_Bing_Crosby_-_White_Christmas.ogg")
    assert (song(lib, sid)["year"], song(lib, sid)["year_source"]) == (1942, "catalogue")


def test_an_unknown_song_keeps_its_tag_year_or_a_year_in_its_name(lib, mary, tmp_path):
    tagged = add(lib, mary, tmp_path, "a.ogg", {"title": "Grandad's harmonica", "artist": "Family", "date": "1961"})
    assert (song(lib, tagged)["year"], song(lib, tagged)["year_source"]) == (1961, "tag")
    named = add(lib, mary, tmp_path, "Church choir tape (1962).ogg", freq=550)
    assert (song(lib, named)["year"], song(lib, named)["year_source"]) == (1962, "filename")
    nothing = add(lib, mary, tmp_path, "Voice memo 004.ogg", freq=660)
    assert song(lib, nothing)["year"] is None


def test_a_family_year_wins_and_is_never_overwritten(lib, mary, tmp_path):
    sid = add(lib, mary, tmp_path, "x.ogg", {"title": "White Christmas", "artist": "Bing Crosby", "date": "1998"})
    years.set_family_year(lib.db, mary.id, sid, 1947, user_id=None)
    years.resolve_entry(lib.db, mary.id, sid)
    assert years.resolve_stale(lib.db) == []
    assert (song(lib, sid)["year"], song(lib, sid)["year_source"]) == (1947, "family")
    actions = [r["action"] for r in lib.db.query("SELECT action FROM audit_log WHERE song_id = ?", [sid])]
    assert "song.year" in actions
    years.set_family_year(lib.db, mary.id, sid, None)           # hand it back to the automatic decision
    assert (song(lib, sid)["year"], song(lib, sid)["year_source"]) == (1942, "catalogue")


@pytest.mark.parametrize("bad", ["19x0", "42", "3000", "1942.5", 1700])
def test_a_mistyped_family_year_is_refused_in_plain_words(lib, mary, tmp_path, bad):
    sid = add(lib, mary, tmp_path, "y.ogg", {"title": "In the Mood", "artist": "Glenn Miller", "date": "2001"})
    with pytest.raises(LibraryError, match="is not a year we can read"):
        years.set_family_year(lib.db, mary.id, sid, bad)
    assert song(lib, sid)["year"] == 1939                 # nothing half-written


def test_corrected_names_make_the_decision_stale_and_fix_redoes_it(lib, mary, tmp_path):
    sid = add(lib, mary, tmp_path, "z.ogg", {"title": "Track 1", "artist": "Unknown artist", "date": "1999"})
    before = (song(lib, sid)["year"], song(lib, sid)["year_source"])
    rename(lib, mary, sid, "Moonlight Serenade", "Glenn Miller")
    stale = [r for r in years.review(lib.db) if r.stale]
    assert [r.song_id for r in stale] == [sid]
    assert stale[0].proposed.year == 1939
    changed = years.resolve_stale(lib.db)
    assert before != (1939, "catalogue") and [r.song_id for r in changed] == [sid]
    assert (song(lib, sid)["year"], song(lib, sid)["year_source"]) == (1939, "catalogue")
    assert not any(r.stale for r in years.review(lib.db))


def test_a_new_catalogue_makes_every_automatic_decision_stale(lib, mary, tmp_path):
    sid = add(lib, mary, tmp_path, "w.ogg", {"title": "In the Mood", "artist": "Glenn Miller", "date": "2001"})
    newer = Matcher(era_catalogue.from_entries([Entry("In the Mood", "Glenn Miller", 1938, "test")]))
    assert [r.song_id for r in years.review(lib.db, matcher=newer) if r.stale] == [sid]
    years.resolve_stale(lib.db, matcher=newer)
    assert song(lib, sid)["year"] == 1938


def test_cli_year_prints_one_json_object(capsys):
    assert cli.main(["year", "01 - The Beatles - Hey Jude (Remastered 2009).mp3"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert set(found) == {"title", "artist", "year", "source", "score"}
    assert (found["title"], found["artist"], found["year"]) == ("Hey Jude", "The Beatles", 1968)
    assert cli.main(["year", "Voice memo 004"]) == 0
    assert json.loads(capsys.readouterr().out) == {"match": None}


def test_cli_years_reviews_and_fixes_a_residents_library(lib, mary, tmp_path, capsys):
    sid = add(lib, mary, tmp_path, "v.ogg", {"title": "Track 1", "artist": "Unknown artist", "date": "1999"})
    fam = add(lib, mary, tmp_path, "u.ogg", {"title": "White Christmas", "artist": "Bing Crosby"}, freq=330)
    years.set_family_year(lib.db, mary.id, fam, 1950)
    rename(lib, mary, sid, "Moonlight Serenade", "Glenn Miller")

    args = ["--db", str(lib.db_path), "--resident", "mary"]
    assert cli.main(["years", *args]) == 0
    out = capsys.readouterr().out
    assert "1950 (entered by a person): White Christmas by Bing Crosby" in out
    assert "out of date: would be 1939 (catalogue" in out and "run again with --fix" in out
    assert cli.main(["years", *args, "--fix"]) == 0
    out = capsys.readouterr().out
    assert "1939 (catalogue" in out and "[fixed]" in out and "Fixed 1 song." in out
    assert cli.main(["years", *args, "--json"]) == 0
    rows = {r["title"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["Moonlight Serenade"]["year"] == 1939 and not rows["Moonlight Serenade"]["stale"]
    assert rows["White Christmas"]["source"] == "family"
    assert cli.main(["years", "--db", str(lib.db_path), "--resident", "Nobody"]) == 2
    assert "no resident called Nobody" in capsys.readouterr().err
    assert cli.main(["years", "--db", str(lib.db_path), "--all"]) == 0
    out = capsys.readouterr().out
    assert "Moonlight Serenade" in out and "White Christmas" in out and "out of date" not in out


def test_without_a_catalogue_an_upload_keeps_its_tag_year_until_the_catalogue_is_back(lib, mary, tmp_path):
    src = write_song(tmp_path / "in" / "t.ogg", 440, 3.0, tags={"title": "In the Mood", "artist": "Glenn Miller",
                                                               "date": "2001"})
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, min_seconds=1)
    sid = result.song_id
    empty = Matcher(era_catalogue.from_entries([], version="missing"))
    with write(lib.db):
        lib.db.execute("UPDATE resident_songs SET year = NULL, year_source = NULL WHERE song_id = ?", [sid])
        years.resolve_entry(lib.db, mary.id, sid, matcher=empty)
    assert (song(lib, sid)["year"], song(lib, sid)["year_source"]) == (2001, "tag")
    assert [r.song_id for r in years.resolve_stale(lib.db)] == [sid]
    assert (song(lib, sid)["year"], song(lib, sid)["year_source"]) == (1939, "catalogue")


def test_each_residents_entry_has_its_own_names_and_year(lib, mary, tmp_path):
    """The same audio for two residents: one family renames and dates it for their resident;
    the other resident's entry, and the shared file's own tags, stay as they were."""
    sid = add(lib, mary, tmp_path, "s.ogg", {"title": "Track 1", "artist": "Unknown", "date": "1999"})
    john = library.add_resident(lib.db, "John", birth_year=1935)
    src = tmp_path / "in" / "s.ogg"            # the very same file, from John's family
    assert ingest_file(lib.db, lib.media, src, resident_id=john.id, min_seconds=1).song_id == sid
    from content import curation
    curation.update_entry(lib.db, mary.id, sid, title="Moonlight Serenade", artist="Glenn Miller", year=None)
    curation.set_year(lib.db, john.id, sid, 1950)
    mine, his = library.resident_song(lib.db, mary.id, sid), library.resident_song(lib.db, john.id, sid)
    assert (mine.title, mine.year, mine.year_source) == ("Moonlight Serenade", 1939, "catalogue")
    assert (his.title, his.artist, his.year, his.year_source) == ("Track 1", "Unknown", 1950, "family")
    # each entry's year decision is its own: Mary's new names do not redo John's
    assert [r.resident_id for r in years.review(lib.db) if r.stale] == []
    file_row = lib.db["songs"].get(sid)
    assert (file_row["title"], file_row["artist"], file_row["tag_year"]) == ("Track 1", "Unknown", 1999)
    assert not {"year", "year_source", "year_confidence"} & set(file_row)
