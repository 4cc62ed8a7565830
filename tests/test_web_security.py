"""The admin's defences, each tested the way someone trying to get round it would: uploads
from nobody, edits that reach another family's relative, a cookie kept after logging out,
a red flag undone, crafted numbers and links. Guesses: tests/test_web_guesses.py."""
from __future__ import annotations

import io
import socket
import threading

import pytest

from content.web.__main__ import make_server
from tests.test_web_fixtures import add_song, song_file, world  # noqa: F401


def _multipart(fields: dict[str, str], filename: str, payload: bytes) -> tuple[bytes, str]:
    boundary = "evergreen-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
                 f'Content-Type: audio/wav\r\n\r\n'.encode() + payload + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _stored(world) -> tuple[list[str], list[str]]:
    tmp = world.data / "upload-tmp"
    return (sorted(p.name for p in tmp.iterdir()) if tmp.exists() else [],
            sorted(p.name for p in world.media.iterdir()))


# --- 1. uploads from people who may not upload ---------------------------------------------

@pytest.mark.parametrize("who", ["anonymous", "another family"])
def test_an_upload_from_someone_not_allowed_is_turned_away_unread(world, who):
    before = _stored(world)
    c = world.client(None if who == "anonymous" else world.mary_family)
    c.get("/login")  # a real token, from a public page
    body, ctype = _multipart({"csrf_token": c.token}, "song.wav", b"RIFF" + b"x" * 2_000_000)
    stream = io.BytesIO(body)
    resp = c.c.post(f"/residents/{world.bob.id}/upload", input_stream=stream, content_type=ctype,
                    content_length=len(body))
    if who == "anonymous":
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    else:
        assert resp.status_code == 404
    assert stream.tell() == 0, "the body was read before checking who was asking"
    assert _stored(world) == before


def _declare(port: int, length: int, path: str) -> bytes:
    """Send only the headers of an upload of `length` bytes; return the server's first answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: kiosk\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                   f"Content-Length: {length}\r\n\r\n").encode())
        answer = b""
        try:
            while chunk := s.recv(4096):
                answer += chunk
        except socket.timeout:
            pass  # the server was waiting for the body instead of answering
        return answer


def test_the_real_server_refuses_a_body_over_the_apps_limit_from_its_length(world):
    srv = make_server(world.app, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        limit = world.app.config["MAX_CONTENT_LENGTH"]
        answer = _declare(srv.effective_port, limit + 1, f"/residents/{world.bob.id}/upload")
    finally:
        srv.close()
        thread.join(5)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert b"This file is too big. The largest song you can send is 4 MB." in answer


# --- 2. a song two residents share: each family's words stay theirs --------------------------

def _upload(c, rid: int, name: str, body: bytes) -> dict:
    c.get(f"/residents/{rid}/upload")
    resp = c.c.post(f"/residents/{rid}/upload", data={"csrf_token": c.token, "files": (io.BytesIO(body), name)},
                    content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["files"][0]


def _live_upload(b, rid: int, name: str, body: bytes) -> dict:
    b.get(f"/residents/{rid}/upload")
    boundary = "evergreen-live-boundary"
    data = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{b.token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            f'Content-Type: audio/wav\r\n\r\n').encode() + body + f"\r\n--{boundary}--\r\n".encode()
    answer = b.request("POST", f"/residents/{rid}/upload", data,
                       {"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"})
    assert answer.status == 200, answer.text
    return answer.json()["files"][0]


def test_one_familys_words_for_a_song_never_reach_another_family(world, lib, tmp_path):
    """Bob's family names and dates a recording for Bob; Mary's family uploads the very same
    file for Mary. On the real server: Mary's family is told it was added and nothing else,
    sees only the file's own names, renames Mary's entry freely, and Bob's words stay Bob's."""
    from tests.live import LiveBrowser, serve
    from tests.test_web_fixtures import FAMILY_PW
    body = song_file(tmp_path, "waltz.wav", 330, title="Track 07", artist="Orchestra").read_bytes()
    with serve(world.app) as base:
        ben = LiveBrowser(base)
        ben.login(world.bob_family.email, FAMILY_PW)
        sid = _live_upload(ben, world.bob.id, "waltz.wav", body)["song_id"]
        bob_song = f"/residents/{world.bob.id}/songs/{sid}"
        ben.get(bob_song)
        assert ben.post(bob_song, {"title": "Dad's wedding waltz", "artist": "Savoy Orpheans", "year": "1948",
                                   "note": "Danced at the Savoy"}).status == 302
        anne = LiveBrowser(base)
        anne.login(world.mary_family.email, FAMILY_PW)
        answer = _live_upload(anne, world.mary.id, "same-file.wav", body)
        assert answer["song_id"] == sid and answer["status"] == "added"
        secrets_of_bob = ("wedding waltz", "Savoy", "1948", "Bob", "already")
        assert not any(s in answer["message"] for s in secrets_of_bob), answer["message"]
        for page in (f"/residents/{world.mary.id}", f"/residents/{world.mary.id}/songs/{sid}",
                     f"/residents/{world.mary.id}/history"):
            text = anne.get(page).text
            assert not any(s in text for s in secrets_of_bob), page
        mary_song = f"/residents/{world.mary.id}/songs/{sid}"
        assert "Track 07" in anne.get(mary_song).text
        assert anne.post(mary_song, {"title": "Mum's song", "artist": "", "year": "1952"}).status == 302
        assert anne.post(f"{mary_song}/year", {"year": "1953"}).status == 302
        bob_page = ben.get(bob_song).text
        assert "Dad&#39;s wedding waltz" in bob_page and "Mum" not in bob_page and "1948" in bob_page
        assert ben.post(bob_song, {"title": "Dad's waltz", "artist": "Savoy Orpheans", "year": "1948",
                                   "note": "Danced at the Savoy"}).status == 302
    mine = lib.db["resident_songs"].get((world.mary.id, sid))
    his = lib.db["resident_songs"].get((world.bob.id, sid))
    assert (mine["title"], mine["year"], mine["note"]) == ("Mum's song", 1953, "")
    assert (his["title"], his["artist"], his["year"], his["note"]) == ("Dad's waltz", "Savoy Orpheans", 1948,
                                                                       "Danced at the Savoy")
    assert lib.db["songs"].get(sid)["title"] == "Track 07"      # the file's own words, unchanged


def test_a_library_from_before_is_moved_onto_each_residents_entry(tmp_path):
    """An existing library (schema before resident-owned words) is migrated in place: each
    entry keeps the names, year and decision its song had; the songs row keeps the file's."""
    import sqlite3

    from content import db as dbmod
    from content.migrations import registry
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    old = __import__("sqlite_utils").Database(conn)
    migrations = registry()
    migrations.ensure_migrations_table(old)
    for migration in migrations._migrations:
        if migration.name >= "m0051":
            break
        with dbmod.write(old):
            migration.fn(old)
            migrations._record_applied(old, migration.name)
    with dbmod.write(old):
        old["residents"].insert_all([{"id": 1, "name": "Mary"}, {"id": 2, "name": "Bob"}])
        old["songs"].insert({"id": 7, "sha256": "ab" * 32, "ext": "ogg", "format": "ogg", "title": "Dad's waltz",
                             "artist": "Savoy", "tag_year": 1999, "year": 1948, "year_source": "family",
                             "duration": 100, "size_bytes": 10})
        old["resident_songs"].insert_all([{"resident_id": 1, "song_id": 7, "note": "Mary's"},
                                          {"resident_id": 2, "song_id": 7, "note": "Bob's"}])
        old["song_year_decisions"].insert({"song_id": 7, "basis": "x", "catalogue_version": "v", "decided_at": "t"})
    conn.close()
    db = dbmod.connect(path)   # the migration runs here
    try:
        entries = [(r["resident_id"], r["title"], r["artist"], r["year"], r["year_source"], r["note"])
                   for r in db.query("SELECT * FROM resident_songs ORDER BY resident_id")]
        assert entries == [(1, "Dad's waltz", "Savoy", 1948, "family", "Mary's"),
                           (2, "Dad's waltz", "Savoy", 1948, "family", "Bob's")]
        assert not {"year", "year_source", "year_confidence"} & set(db["songs"].columns_dict)
        assert db.execute("SELECT COUNT(*) FROM entry_year_decisions").fetchone()[0] == 2
        assert not db["song_year_decisions"].exists()
    finally:
        db.close()


# --- 3. logging out ------------------------------------------------------------------------------

def test_a_copied_session_cookie_stops_working_after_logout(world):
    phone = world.client(world.mary_family)
    laptop = world.client(world.mary_family)
    cookie = phone.c.get_cookie("session").value
    page = f"/residents/{world.mary.id}"
    assert phone.get(page).status_code == 200
    assert phone.post("/logout", {}).status_code == 302
    replay = world.app.test_client()
    replay.set_cookie("session", cookie)
    resp = replay.get(page)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    # logging out ends the account's other sessions too
    assert laptop.get(page).status_code == 302
    # and logging in again works as before
    assert world.client(world.mary_family).get(page).status_code == 200


# --- 4. red flags ---------------------------------------------------------------------------------

def _flag(lib, rid: int, sid: int) -> tuple[int, str | None]:
    return tuple(lib.db.execute("SELECT never_play, never_play_reason FROM resident_songs WHERE resident_id = ? "
                                "AND song_id = ?", [rid, sid]).fetchone())


def test_a_family_member_cannot_lift_a_red_flag_staff_set(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Upsetting", "Band", tmp=tmp_path)
    url = f"/residents/{world.mary.id}/songs/{sid}/never-play"
    staff = world.client(world.staff)
    staff.get(f"/residents/{world.mary.id}")
    staff.post(url, {"never_play": "1", "reason": "She cried (staff)"})
    family = world.client(world.mary_family)
    family.get(f"/residents/{world.mary.id}")
    resp = family.post(url, {"never_play": "0"})
    assert resp.status_code == 403
    assert "Care staff marked this song never to play for Mary" in resp.get_data(as_text=True)
    assert _flag(lib, world.mary.id, sid) == (1, "She cried (staff)")
    # flagging it again changes nothing, so it cannot be turned into the family's own flag
    family.post(url, {"never_play": "1", "reason": "mine now"})
    assert family.post(url, {"never_play": "0"}).status_code == 403
    assert _flag(lib, world.mary.id, sid) == (1, "She cried (staff)")
    staff.post(url, {"never_play": "0"})
    assert _flag(lib, world.mary.id, sid) == (0, None)


def test_a_family_member_can_lift_their_own_red_flag_and_staff_can_lift_any(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Sad one", "Band", tmp=tmp_path)
    url = f"/residents/{world.mary.id}/songs/{sid}/never-play"
    family = world.client(world.mary_family)
    family.get(f"/residents/{world.mary.id}")
    family.post(url, {"never_play": "1", "reason": "Reminds her of the war"})
    assert _flag(lib, world.mary.id, sid) == (1, "Reminds her of the war")
    assert family.post(url, {"never_play": "0"}).status_code == 302
    assert _flag(lib, world.mary.id, sid) == (0, None)
    family.post(url, {"never_play": "1"})
    staff = world.client(world.staff)
    staff.get(f"/residents/{world.mary.id}")
    assert staff.post(url, {"never_play": "0"}).status_code == 302
    assert _flag(lib, world.mary.id, sid)[0] == 0


def test_a_flag_from_before_we_kept_who_set_it_takes_its_setter_from_the_audit_log(world, lib, tmp_path):
    from content import library
    from content.migrations import m0022_never_play_by_role
    staff_sid = add_song(world, lib, world.mary, 440, "Staff's", "Band", tmp=tmp_path)
    family_sid = add_song(world, lib, world.mary, 550, "Family's", "Band", tmp=tmp_path)
    unknown_sid = add_song(world, lib, world.mary, 660, "Kiosk's", "Band", tmp=tmp_path)
    lib.db.execute("ALTER TABLE resident_songs DROP COLUMN never_play_by_role")
    library.set_song_flags(lib.db, world.mary.id, staff_sid, never_play=True, user_id=world.staff.id)
    library.set_song_flags(lib.db, world.mary.id, family_sid, never_play=True, user_id=world.mary_family.id)
    library.set_song_flags(lib.db, world.mary.id, unknown_sid, never_play=True)
    m0022_never_play_by_role.migrate(lib.db)
    roles = dict(lib.db.execute("SELECT song_id, never_play_by_role FROM resident_songs").fetchall())
    assert roles == {staff_sid: "staff", family_sid: "family", unknown_sid: None}
    family = world.client(world.mary_family)
    family.get(f"/residents/{world.mary.id}")
    assert family.post(f"/residents/{world.mary.id}/songs/{family_sid}/never-play", {"never_play": "0"}).status_code == 302
    assert family.post(f"/residents/{world.mary.id}/songs/{unknown_sid}/never-play", {"never_play": "0"}).status_code == 403


# --- 8. what phones and caches may keep --------------------------------------------------------

def test_pages_are_never_stored_and_files_only_privately(world, lib, tmp_path):
    from content.photos import set_photo
    from tests.test_web_curation import PNG
    sid = add_song(world, lib, world.mary, 440, "Song", "Band", tmp=tmp_path)
    set_photo(lib.db, world.media, world.mary.id, io.BytesIO(PNG))
    song = lib.db["songs"].get(sid)
    c = world.client(world.mary_family)
    page = c.get(f"/residents/{world.mary.id}")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert c.get("/login").headers["Cache-Control"] == "no-store"
    for url in (f"/residents/{world.mary.id}/photo", f"/media/{song['sha256']}.{song['ext']}"):
        resp = c.get(url)
        assert resp.status_code == 200, url
        words = {w.strip() for w in resp.headers["Cache-Control"].split(",")}
        assert "private" in words and "public" not in words and "max-age=3600" in words, url


def test_no_page_carries_inline_script_or_style_the_policy_would_block(world, lib, tmp_path):
    import re
    sid = add_song(world, lib, world.mary, 440, "Song", "Band", tmp=tmp_path)
    c = world.client(world.staff)
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)
    for url in ("/", "/login", f"/residents/{world.mary.id}", f"/residents/{world.mary.id}/songs/{sid}",
                f"/residents/{world.mary.id}/upload", f"/residents/{world.mary.id}/settings",
                f"/residents/{world.mary.id}/history", "/residents/new", "/password", "/kiosk"):
        html = c.get(url).get_data(as_text=True)
        assert not inline.search(html), (url, inline.search(html))


# --- 9. crafted numbers ------------------------------------------------------------------------

@pytest.fixture
def plain_errors(world):
    """Errors answered as the real server would (a 500 page), not raised into the test."""
    world.app.testing = False
    world.app.config["PROPAGATE_EXCEPTIONS"] = False
    return world


def test_crafted_numbers_get_a_plain_answer_never_a_server_error(plain_errors, lib):
    world = plain_errors
    c = world.client(world.mary_family)
    mary = f"/residents/{world.mary.id}"
    for page in ("%C2%B2", "9" * 5000, "-1", "1e9", "%D9%A3"):
        resp = c.get(f"{mary}?page={page}")
        assert resp.status_code == 200, page
    c.get(f"{mary}/settings")
    for year in ("\u00b2", "\u0663\u0663\u0663\u0663", "9" * 5000, "1952.0"):
        resp = c.post(f"{mary}/settings", {"birth_year": year})
        assert resp.status_code == 400, year
        assert "is not a birth year we can read" in resp.get_data(as_text=True)
    assert lib.db["residents"].get(world.mary.id)["birth_year"] == 1938
    staff = world.client(world.staff)
    staff.get(f"{mary}/settings")
    resp = staff.post(f"{mary}/settings", {"name": "Mary", "volume_cap": "\u00b9\u2070", "session_minutes": "30"})
    assert resp.status_code == 400 and "loudest volume" in resp.get_data(as_text=True)


def test_an_id_too_big_for_the_database_is_simply_not_found(plain_errors):
    world = plain_errors
    huge = "9" * 23
    for who in (None, world.mary_family, world.staff):
        c = world.client(who)
        for url in (f"/residents/{huge}", f"/residents/{world.mary.id}/songs/{huge}",
                    f"/residents/{2**63}/history"):
            resp = c.get(url)
            assert resp.status_code == 404, (who, url, resp.status_code)
    c = world.client(world.staff)
    assert c.get(f"/residents/{2**63 - 1}").status_code == 404   # the largest id: looked up, not there


# --- 10. where logging in leads ----------------------------------------------------------------

@pytest.mark.parametrize("target", ["/x%0d%0aSet-Cookie:%20a=b", "/x%0aLocation:%20//evil.example", "/%09/evil.example",
                                    "/%5Cevil.example", "/x%E2%80%8Ey", "//evil.example", "https://evil.example/"])
def test_a_crafted_next_link_leads_home_after_logging_in(plain_errors, target):
    world = plain_errors
    c = world.client()
    c.get("/login")
    resp = c.post(f"/login?next={target}", {"email": world.staff.email, "password": "staff-password-1"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"
    assert "a=b" not in resp.headers.get("Set-Cookie", "")
    assert c.get("/").status_code == 200


def test_an_ordinary_next_link_is_followed(world):
    c = world.client()
    c.get("/login")
    resp = c.post(f"/login?next=/residents/{world.mary.id}%3Fq%3DVera", {"email": world.staff.email,
                                                                         "password": "staff-password-1"})
    assert resp.headers["Location"] == f"/residents/{world.mary.id}?q=Vera"


def test_staff_can_log_a_lost_phone_out_from_the_command_line(world, lib, capsys):
    from content import cli
    phone = world.client(world.mary_family)
    assert phone.get(f"/residents/{world.mary.id}").status_code == 200
    assert cli.main(["users", "logout", "--email", world.mary_family.email, "--db", str(lib.db_path)]) == 0
    assert "logged out everywhere" in capsys.readouterr().out
    assert phone.get(f"/residents/{world.mary.id}").status_code == 302
    assert cli.main(["users", "logout", "--email", "nobody@x.example", "--db", str(lib.db_path)]) != 0
    assert "There is no account for nobody@x.example" in capsys.readouterr().err
