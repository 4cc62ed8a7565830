"""Uploading songs through the admin: per-file answers, the same song twice, bad files with
plain reasons, too-big refused before reading, and nothing left behind."""
from __future__ import annotations

import io
from pathlib import Path

from content import library
from content.web.words import year_sentence
from tests.test_web_fixtures import add_song, song_file, world  # noqa: F401


def _upload(c, rid: int, *files: tuple[str, bytes], json: bool = True):
    c.get(f"/residents/{rid}/upload")
    data = {"files": [(io.BytesIO(body), name) for name, body in files]}
    headers = {"Accept": "application/json"} if json else {}
    return c.post(f"/residents/{rid}/upload", data, content_type="multipart/form-data", headers=headers)


def _stored(world) -> set[str]:
    return {p.name for p in world.media.iterdir() if p.is_file() and not p.name.startswith(".")}


def _leftovers(world) -> list[Path]:
    return list((world.data / "upload-tmp").iterdir()) + list((world.media / ".incoming").glob("*"))


def test_upload_adds_a_song_with_its_details(world, lib, tmp_path):
    body = song_file(tmp_path, "x.wav", 440, title="We'll Meet Again", artist="Vera Lynn", date="1939").read_bytes()
    c = world.client(world.mary_family)
    resp = _upload(c, world.mary.id, ("We'll Meet Again.wav", body))
    answer = resp.get_json()
    assert resp.status_code == 200 and answer["ok"]
    (f,) = answer["files"]
    assert f["status"] == "added"
    assert f["message"] == "We'll Meet Again.wav: added “We'll Meet Again” by Vera Lynn (1939)."
    songs = library.resident_songs(lib.db, world.mary.id)
    assert [(s.title, s.artist, s.year) for s in songs] == [("We'll Meet Again", "Vera Lynn", 1939)]
    assert lib.db["resident_songs"].get((world.mary.id, songs[0].song_id))["added_by"] == world.mary_family.id
    assert _leftovers(world) == []
    page = c.get(f"/residents/{world.mary.id}").get_data(as_text=True)
    row = lib.db["resident_songs"].get((world.mary.id, songs[0].song_id))
    assert "We&#39;ll Meet Again" in page and year_sentence(row).replace("'", "&#39;") in page


def test_same_file_twice_is_already_there(world, tmp_path):
    body = song_file(tmp_path, "x.wav", 500, title="Moonlight Serenade", artist="Glenn Miller").read_bytes()
    c = world.client(world.mary_family)
    assert _upload(c, world.mary.id, ("a.wav", body)).get_json()["files"][0]["status"] == "added"
    again = _upload(c, world.mary.id, ("copy of a.wav", body)).get_json()["files"][0]
    assert again["status"] == "duplicate"
    assert "already in Mary's songs" in again["message"]
    assert len([n for n in _stored(world) if n.endswith(".wav")]) == 1


def test_audio_another_resident_has_is_simply_added_stored_once_and_says_nothing_about_them(world, tmp_path):
    body = song_file(tmp_path, "x.wav", 520, title="In the Mood", artist="Glenn Miller").read_bytes()
    assert _upload(world.client(world.bob_family), world.bob.id, ("mood.wav", body)).get_json()["files"][0]["status"] == "added"
    for who in (world.mary_family, world.staff):
        answer = _upload(world.client(who), world.mary.id, ("mood.wav", body)).get_json()["files"][0]
        assert answer["status"] == ("added" if who is world.mary_family else "duplicate")
        assert "Bob" not in answer["message"] and "already in the library" not in answer["message"]
    assert len(_stored(world)) == 1


def test_a_different_recording_of_the_same_song_is_pointed_out(world, lib, tmp_path):
    add_song(world, lib, world.mary, 300, "We'll Meet Again", "Vera Lynn", tmp=tmp_path)
    body = song_file(tmp_path, "y.wav", 610, title="We'll Meet Again (Remastered 2005)", artist="Vera Lynn").read_bytes()
    answer = _upload(world.client(world.mary_family), world.mary.id, ("vera.wav", body)).get_json()["files"][0]
    assert answer["status"] == "added"
    assert answer["lookalikes"] == ["This looks like “We'll Meet Again” by Vera Lynn, already in Mary's songs."]


def test_lookalikes_never_name_residents_the_family_cannot_see(world, lib, tmp_path):
    add_song(world, lib, world.bob, 300, "Moonlight Serenade", "Glenn Miller", tmp=tmp_path)
    body = song_file(tmp_path, "y.wav", 611, title="Moonlight Serenade", artist="Glenn Miller").read_bytes()
    answer = _upload(world.client(world.mary_family), world.mary.id, ("m.wav", body)).get_json()["files"][0]
    assert answer["status"] == "added" and answer["lookalikes"] == []


def test_several_files_in_one_plain_form_post(world, lib, tmp_path):
    a = song_file(tmp_path, "a.ogg", 400, fmt=".ogg", title="Song A", artist="Singer").read_bytes()
    b = song_file(tmp_path, "b.flac", 450, fmt=".flac", title="Song B", artist="Singer").read_bytes()
    resp = _upload(world.client(world.mary_family), world.mary.id, ("a.ogg", a), ("notes.txt", b"hello there"),
                   ("b.flac", b), json=False)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "added “Song A”" in page and "added “Song B”" in page
    assert "notes.txt: not added." in page
    # The page starts with how it went: counts, then why.
    summary = page[page.index('id="upload-summary"'):page.index("</div>", page.index('id="upload-summary"'))]
    assert "2 added, 1 not added:" in summary and "notes.txt: This is a text document, not a song." in summary
    assert page.index('id="upload-summary"') < page.index("added “Song A”")
    assert {s.title for s in library.resident_songs(lib.db, world.mary.id)} == {"Song A", "Song B"}
    assert _leftovers(world) == []


def test_bad_files_are_refused_in_plain_words_and_nothing_is_stored(world, lib, tmp_path):
    c = world.client(world.mary_family)
    real = song_file(tmp_path, "r.wav", 440, title="Real").read_bytes()
    cases = {
        "notes.mp3": b"this is a shopping list, not a song" * 50,
        "empty.mp3": b"",
        "../../../etc/Ça va été.mp3": b"\x00" * 5000,
        "cut.wav": real[: len(real) // 20],
    }
    for name, body in cases.items():
        f = _upload(c, world.mary.id, (name, body)).get_json()["files"][0]
        assert f["status"] == "refused", name
        assert Path(name).name in f["message"] and "not added." in f["message"], f["message"]
        assert "Traceback" not in f["message"]
    empty = _upload(c, world.mary.id, ("empty.mp3", b"")).get_json()["files"][0]
    assert empty["message"] == "empty.mp3: not added. The file is empty."
    assert library.resident_songs(lib.db, world.mary.id) == []
    assert _stored(world) == set()
    assert _leftovers(world) == []
    assert not (world.data.parent / "etc").exists()


def test_a_strange_filename_never_becomes_a_path(world, lib, tmp_path):
    body = song_file(tmp_path, "x.wav", 660).read_bytes()  # no tags: the name gives the title
    f = _upload(world.client(world.mary_family), world.mary.id, ("../../Édith Piaf - La Vie en rose.wav", body)
                ).get_json()["files"][0]
    assert f["status"] == "added"
    (song,) = library.resident_songs(lib.db, world.mary.id)
    assert (world.media / song.filename).exists()
    assert song.filename == f"{song.sha256}.wav"
    assert "La Vie en rose" in song.title
    assert {p.name for p in tmp_path.iterdir()} == {"data", "x.wav"}
    assert {p.name for p in world.data.iterdir()} <= {"library.db", "library.db-wal", "library.db-shm", "media",
                                                     "upload-tmp", "admin_secret_key"}


def test_too_big_is_refused_from_its_length_before_reading(world):
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/upload")
    limit = world.app.config["MAX_CONTENT_LENGTH"]
    # The body is never read: only its declared length is looked at.
    declared = {"CONTENT_LENGTH": str(limit + 1)}
    resp = c.c.post(f"/residents/{world.mary.id}/upload", data=b"x" * 10, environ_overrides=declared,
                    headers={"Content-Type": "multipart/form-data; boundary=zz",
                             "X-CSRFToken": c.token, "Accept": "application/json"})
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "This file is too big. The largest song you can send is 4 MB."
    html = c.c.post(f"/residents/{world.mary.id}/upload", data=b"x" * 10, environ_overrides=declared,
                    headers={"Content-Type": "multipart/form-data; boundary=zz"})
    assert html.status_code == 413 and "too big" in html.get_data(as_text=True)
    assert _stored(world) == set() and _leftovers(world) == []


def test_a_file_just_over_the_song_limit_is_refused_by_size(world, tmp_path):
    big = b"\x00" * (world.app.config["MAX_UPLOAD_BYTES"] + 1)
    f = _upload(world.client(world.mary_family), world.mary.id, ("big.wav", big)).get_json()["files"][0]
    assert f["status"] == "refused" and "too big" in f["message"]
    assert _stored(world) == set() and _leftovers(world) == []


def test_upload_without_a_file_asks_for_one(world):
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/upload")
    resp = c.post(f"/residents/{world.mary.id}/upload", {}, headers={"Accept": "application/json"})
    assert resp.status_code == 400 and resp.get_json()["error"] == "Please choose one or more songs first."


def test_upload_with_the_csrf_header_only(world, tmp_path):
    """What the page's script does: the token in the X-CSRFToken header."""
    body = song_file(tmp_path, "x.wav", 700, title="Header").read_bytes()
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/upload")
    resp = c.c.post(f"/residents/{world.mary.id}/upload", data={"files": (io.BytesIO(body), "h.wav")},
                    headers={"X-CSRFToken": c.token, "Accept": "application/json"}, content_type="multipart/form-data")
    assert resp.get_json()["files"][0]["status"] == "added"
    no_token = c.c.post(f"/residents/{world.mary.id}/upload", data={"files": (io.BytesIO(body), "h.wav")},
                        headers={"Accept": "application/json"}, content_type="multipart/form-data")
    assert no_token.status_code == 400 and "expired" in no_token.get_json()["error"]
    assert _leftovers(world) == []


def test_uploads_share_the_admins_decoders(world, lib, tmp_path):
    """One pool of decoding children, sized to the cores, for every upload: both uploads
    are decoded by the admin's pool, and no child is started beyond it."""
    c = world.client(world.mary_family)
    for i, freq in enumerate((300, 360)):
        body = song_file(tmp_path, f"{i}.ogg", freq, fmt=".ogg", title=f"Song {i}").read_bytes()
        assert _upload(c, world.mary.id, (f"{i}.ogg", body)).get_json()["files"][0]["status"] == "added"
    pool = world.app.extensions["evergreen.probers"]
    assert pool.requests == 2
    assert pool.running() == min(2, pool.size), "each upload took the next child of the one pool"
    pool.close()
