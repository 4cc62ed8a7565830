"""Curating a resident's songs and settings in the admin: edits, the year fix, favourites,
the red flag (and the kiosk being told), notes, removal, photo, history, files."""
from __future__ import annotations

import io
import json

from content import library, queue
from tests.test_web_fixtures import add_song, world  # noqa: F401

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def test_resident_page_lists_songs_with_year_source_plays_and_last_played(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Our Family Waltz", "Uncle Joe", year="1939", tmp=tmp_path)
    lib.db["plays"].insert_all([
        {"resident_id": world.mary.id, "song_id": sid, "started_at": "2026-11-20T10:00:00Z", "ended_how": "finished"},
        {"resident_id": world.mary.id, "song_id": sid, "started_at": "2026-11-21T15:30:00Z", "ended_how": "next"},
        {"resident_id": world.bob.id, "song_id": sid, "started_at": "2026-11-22T09:00:00Z", "ended_how": "finished"},
    ])
    page = world.client(world.mary_family).get(f"/residents/{world.mary.id}").get_data(as_text=True)
    assert "Came out in 1939: from the file&#39;s own details" in page
    assert "Played 2 times, last 2026-11-21 15:30" in page


def test_editing_the_year_makes_it_the_familys(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Grandad's Tune", "Uncle Joe", year="2005", tmp=tmp_path)
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/songs/{sid}")
    bad = c.post(f"/residents/{world.mary.id}/songs/{sid}/year", {"year": "nineteen"}, follow_redirects=True)
    assert "is not a year we can read" in bad.get_data(as_text=True)
    c.post(f"/residents/{world.mary.id}/songs/{sid}/year", {"year": "1942"})
    row = lib.db["resident_songs"].get((world.mary.id, sid))
    assert (row["year"], row["year_source"]) == (1942, "family")
    page = c.get(f"/residents/{world.mary.id}").get_data(as_text=True)
    assert "Came out in 1942: you or the care staff entered it." in page
    assert lib.db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'song.edit' AND user_id = ?",
                          [world.mary_family.id]).fetchone()[0] == 1


def test_editing_title_artist_and_note(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "track01", "", tmp=tmp_path)
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/songs/{sid}")
    empty = c.post(f"/residents/{world.mary.id}/songs/{sid}", {"title": "  ", "artist": "", "year": "", "note": ""})
    assert empty.status_code == 400 and "A song needs a title." in empty.get_data(as_text=True)
    assert lib.db["resident_songs"].get((world.mary.id, sid))["title"] == "track01"
    c.post(f"/residents/{world.mary.id}/songs/{sid}", {"title": "Lili Marleen", "artist": "Lale Andersen",
                                                       "year": "1939", "note": "Her father sang it."})
    row = lib.db["resident_songs"].get((world.mary.id, sid))
    assert (row["title"], row["artist"], row["year"], row["year_source"]) == ("Lili Marleen", "Lale Andersen", 1939, "family")
    assert lib.db["resident_songs"].get((world.mary.id, sid))["note"] == "Her father sang it."
    assert "Her father sang it." in c.get(f"/residents/{world.mary.id}/songs/{sid}").get_data(as_text=True)


def test_favourite_toggles(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Favourite one", "X", tmp=tmp_path)
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}")
    c.post(f"/residents/{world.mary.id}/songs/{sid}/favourite", {"favourite": "1", "back": "list"})
    assert lib.db["resident_songs"].get((world.mary.id, sid))["favourite"] == 1
    page = c.get(f"/residents/{world.mary.id}").get_data(as_text=True)
    assert "★ A favourite" in page and "Take off favourites" in page
    c.post(f"/residents/{world.mary.id}/songs/{sid}/favourite", {"favourite": "0"})
    assert lib.db["resident_songs"].get((world.mary.id, sid))["favourite"] == 0


def test_never_play_saves_even_when_the_kiosk_is_off_and_the_kiosk_queue_drops_it(world, lib, tmp_path):
    upset = add_song(world, lib, world.mary, 440, "Sad song", "X", tmp=tmp_path)
    calm = add_song(world, lib, world.mary, 550, "Calm song", "Y", tmp=tmp_path)
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}")
    resp = c.post(f"/residents/{world.mary.id}/songs/{upset}/never-play",
                  {"never_play": "1", "reason": "Reminds her of the war", "back": "list"}, follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "“Sad song” will never play for Mary." in text
    assert "The kiosk is not running just now" in text
    row = lib.db["resident_songs"].get((world.mary.id, upset))
    assert (row["never_play"], row["never_play_reason"]) == (1, "Reminds her of the war")
    assert {cand.song_id for cand in queue.playable(queue.candidates(lib.db, world.mary.id))} == {calm}
    assert "Never plays: Reminds her of the war" in text
    c.post(f"/residents/{world.mary.id}/songs/{upset}/never-play", {"never_play": "0"})
    assert lib.db["resident_songs"].get((world.mary.id, upset))["never_play"] == 0


def test_remove_keeps_the_file_while_another_resident_has_it(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Shared", "X", tmp=tmp_path)
    library.link_song(lib.db, world.bob.id, sid)
    name = lib.db["songs"].get(sid)["sha256"] + ".wav"
    c = world.client(world.staff)
    c.get(f"/residents/{world.mary.id}")
    c.post(f"/residents/{world.mary.id}/songs/{sid}/remove")
    assert library.resident_songs(lib.db, world.mary.id) == []
    assert (world.media / name).exists()
    c.post(f"/residents/{world.bob.id}/songs/{sid}/remove")
    assert not (world.media / name).exists()
    assert lib.db.execute("SELECT COUNT(*) FROM songs").fetchone()[0] == 0


def test_media_file_is_served_to_those_who_may_hear_it(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Song", "X", tmp=tmp_path)
    name = lib.db["songs"].get(sid)["sha256"] + ".wav"
    resp = world.client(world.mary_family).get(f"/media/{name}")
    assert resp.status_code == 200 and resp.data == (world.media / name).read_bytes()
    assert world.client(world.bob_family).get(f"/media/{name}").status_code == 404
    assert world.client(world.staff).get(f"/media/{name}").status_code == 200
    assert world.client(world.staff).get("/media/..%2Flibrary.db").status_code == 404


def test_resident_settings_and_plain_errors(world, lib):
    c = world.client(world.staff)
    c.get(f"/residents/{world.mary.id}/settings")
    bad = c.post(f"/residents/{world.mary.id}/settings", {"name": "Mary", "birth_year": "1938", "volume_cap": "400",
                                                         "session_minutes": ""})
    assert bad.status_code == 400 and "loudest volume should be a number from 5 to 100" in bad.get_data(as_text=True)
    taken = c.post(f"/residents/{world.mary.id}/settings", {"name": "bob", "birth_year": "1938"})
    assert "already a resident called bob" in taken.get_data(as_text=True)
    ok = c.post(f"/residents/{world.mary.id}/settings", {"name": "Mary Ellen", "birth_year": "1937",
                                                        "volume_cap": "55", "session_minutes": "20"})
    assert ok.status_code == 302
    r = library.get_resident(lib.db, world.mary.id)
    assert (r.name, r.birth_year, r.volume_cap, r.session_minutes) == ("Mary Ellen", 1937, 55, 20)


def test_family_set_the_birth_year_but_not_the_care_settings(world, lib):
    c = world.client(world.mary_family)
    page = c.get(f"/residents/{world.mary.id}/settings").get_data(as_text=True)
    assert 'name="volume_cap"' not in page and "The care staff set these." in page
    bad = c.post(f"/residents/{world.mary.id}/settings", {"birth_year": "38"})
    assert bad.status_code == 400 and "is not a birth year we can read" in bad.get_data(as_text=True)
    c.post(f"/residents/{world.mary.id}/settings", {"name": "Someone Else", "birth_year": "1936",
                                                   "volume_cap": "100", "session_minutes": "240"})
    r = library.get_resident(lib.db, world.mary.id)
    assert (r.name, r.birth_year, r.volume_cap, r.session_minutes) == ("Mary", 1936, None, None)


def test_photo_upload_is_checked_and_served_only_to_those_who_may_see(world, lib):
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/settings")
    resp = c.post(f"/residents/{world.mary.id}/settings",
                  {"birth_year": "1938", "photo": (io.BytesIO(b"GIF89a not a photo"), "x.png")},
                  content_type="multipart/form-data")
    assert resp.status_code == 400 and "not a photo we can show" in resp.get_data(as_text=True)
    assert library.get_resident(lib.db, world.mary.id).photo is None
    c.post(f"/residents/{world.mary.id}/settings", {"birth_year": "1938", "photo": (io.BytesIO(PNG), "../me.png")},
           content_type="multipart/form-data")
    photo = library.get_resident(lib.db, world.mary.id).photo
    assert photo.startswith("photo-") and (world.media / photo).read_bytes() == PNG
    assert c.get(f"/residents/{world.mary.id}/photo").data == PNG
    assert world.client(world.bob_family).get(f"/residents/{world.mary.id}/photo").status_code == 404


def test_photo_and_settings_save_together_or_not_at_all(world, lib):
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/settings")
    bad = c.post(f"/residents/{world.mary.id}/settings",
                 {"birth_year": "nineteen thirty", "photo": (io.BytesIO(PNG), "me.png")},
                 content_type="multipart/form-data")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Nothing was saved, and the photo needs choosing again." in text
    assert 'value="nineteen thirty"' in text                    # what was typed stays in the form
    assert library.get_resident(lib.db, world.mary.id).photo is None
    ok = c.post(f"/residents/{world.mary.id}/settings", {"birth_year": "1937", "photo": (io.BytesIO(PNG), "me.png")},
                content_type="multipart/form-data", follow_redirects=True)
    assert "Saved the photo and the year of birth." in ok.get_data(as_text=True)
    r = library.get_resident(lib.db, world.mary.id)
    assert r.photo and r.birth_year == 1937
    page = c.get(f"/residents/{world.mary.id}/settings").get_data(as_text=True)
    forms = [f for f in page.split("<form")[1:] if 'name="birth_year"' in f or 'name="photo"' in f]
    assert len(forms) == 1 and 'name="photo"' in forms[0] and 'name="birth_year"' in forms[0]


def test_staff_add_residents_with_plain_errors(world, lib):
    c = world.client(world.staff)
    c.get("/residents/new")
    bad = c.post("/residents/new", {"name": "Joan", "birth_year": "38"})
    assert bad.status_code == 400 and "is not a birth year we can read" in bad.get_data(as_text=True)
    dup = c.post("/residents/new", {"name": "mary", "birth_year": ""})
    assert "already a resident called mary" in dup.get_data(as_text=True)
    ok = c.post("/residents/new", {"name": "Joan", "birth_year": "1940"})
    joan = library.find_resident(lib.db, "Joan")
    assert ok.headers["Location"] == f"/residents/{joan.id}" and joan.birth_year == 1940


def test_history_shows_recent_plays_in_plain_words(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Played song", "X", tmp=tmp_path)
    lib.db["plays"].insert_all([
        {"resident_id": world.mary.id, "song_id": sid, "started_at": "2026-11-20T10:00:00Z",
         "seconds_heard": 185, "ended_how": "finished"},
        {"resident_id": world.mary.id, "song_id": sid, "started_at": "2026-11-21T10:00:00Z",
         "seconds_heard": 12, "ended_how": "red_flag"},
    ])
    page = world.client(world.mary_family).get(f"/residents/{world.mary.id}/history").get_data(as_text=True)
    assert page.index("stopped: marked never play") < page.index("played to the end")
    assert "heard 3:05" in page


def test_resident_page_pages_and_finds(world, lib):
    rows = [{"sha256": f"{i:064x}", "ext": "mp3", "format": "mp3", "title": f"Song {i:03d}", "artist": "Band",
             "duration": 100, "size_bytes": 1} for i in range(230)]
    lib.db["songs"].insert_all(rows)
    lib.db.execute("INSERT INTO resident_songs (resident_id, song_id, title, artist) SELECT ?, id, title, artist "
                   "FROM songs", [world.mary.id])
    lib.db.conn.commit()
    c = world.client(world.mary_family)
    first = c.get(f"/residents/{world.mary.id}").get_data(as_text=True)
    assert "Page 1 of 3" in first and "Song 000" in first and "Song 100" not in first
    third = c.get(f"/residents/{world.mary.id}?page=3").get_data(as_text=True)
    assert "Song 229" in third
    found = c.get(f"/residents/{world.mary.id}?q=Song+042").get_data(as_text=True)
    assert "Song 042" in found and "Song 041" not in found


def test_home_sends_a_family_with_one_relative_straight_to_them(world):
    assert world.client(world.mary_family).get("/").headers["Location"] == f"/residents/{world.mary.id}"
    page = world.client(world.staff).get("/").get_data(as_text=True)
    assert "Mary" in page and "Bob" in page


def test_changes_are_in_the_audit_log_with_who_did_them(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Audited", "X", tmp=tmp_path)
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}")
    c.post(f"/residents/{world.mary.id}/songs/{sid}/never-play", {"never_play": "1", "reason": "upsets her"})
    (entry,) = lib.db.query("SELECT * FROM audit_log WHERE action = 'song.flags'")
    assert entry["user_id"] == world.mary_family.id and entry["resident_id"] == world.mary.id
    assert json.loads(entry["detail"])["never_play_reason"] == "upsets her"


def test_a_catalogue_year_shows_how_sure_the_match_was(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Some Tune", "Some Band", tmp=tmp_path)
    with lib.db.conn:
        lib.db.execute("UPDATE resident_songs SET year = 1942, year_source = 'catalogue', year_confidence = 91.6 "
                       "WHERE song_id = ?", [sid])
    page = world.client(world.mary_family).get(f"/residents/{world.mary.id}").get_data(as_text=True)
    assert "Came out in 1942: from our list of songs (we are 92% sure it is this song)." in page


def test_resident_page_suggests_songs_from_their_teenage_years(world, lib):
    page = world.client(world.mary_family).get(f"/residents/{world.mary.id}").get_data(as_text=True)
    assert "Songs from Mary's teenage years (1951–1957) to look for</a>" in page
    with lib.db.conn:
        lib.db.execute("UPDATE residents SET birth_year = NULL WHERE id = ?", [world.mary.id])
    assert "teenage years" not in world.client(world.mary_family).get(f"/residents/{world.mary.id}").get_data(as_text=True)


def test_editing_details_without_a_year_keeps_the_year(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Kept Year Tune", "Uncle Joe", year="1951", tmp=tmp_path)
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/songs/{sid}")
    c.post(f"/residents/{world.mary.id}/songs/{sid}", {"title": "Kept Year Tune", "artist": "Uncle Joe Smith",
                                                       "note": "Danced to it in 1955"})
    row = lib.db["resident_songs"].get((world.mary.id, sid))
    assert (row["artist"], row["year"], row["year_source"]) == ("Uncle Joe Smith", 1951, "tag")


def test_renaming_a_song_lets_the_catalogue_correct_a_compilation_year(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "track07", "", year="2005", tmp=tmp_path)
    assert (lib.db["resident_songs"].get((world.mary.id, sid))["year"], lib.db["resident_songs"].get((world.mary.id, sid))["year_source"]) == (2005, "tag")
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/songs/{sid}")
    c.post(f"/residents/{world.mary.id}/songs/{sid}", {"title": "We'll Meet Again", "artist": "Vera Lynn",
                                                       "year": "2005", "note": ""})
    row = lib.db["resident_songs"].get((world.mary.id, sid))
    assert (row["year"], row["year_source"]) == (1939, "catalogue")


def test_clearing_a_typed_year_hands_it_back_to_the_catalogue(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "We'll Meet Again", "Vera Lynn", year="2005", tmp=tmp_path)
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/songs/{sid}")
    c.post(f"/residents/{world.mary.id}/songs/{sid}/year", {"year": "1941"})
    assert lib.db["resident_songs"].get((world.mary.id, sid))["year_source"] == "family"
    c.post(f"/residents/{world.mary.id}/songs/{sid}/year", {"year": ""})
    row = lib.db["resident_songs"].get((world.mary.id, sid))
    assert (row["year"], row["year_source"]) == (1939, "catalogue")
