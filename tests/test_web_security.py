"""The admin's defences, each tested the way someone trying to get round it would: uploads
from nobody, edits that reach another family's relative, a cookie kept after logging out,
a red flag undone, guesses sent all at once, crafted numbers and links."""
from __future__ import annotations

import io
import socket
import threading

import pytest

from content import accounts
from content.web.__main__ import make_server
from tests.test_web_fixtures import Browser, add_song, make_app, song_file, world  # noqa: F401


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


# --- 2. a song two residents share -------------------------------------------------------------

@pytest.fixture
def shared_song(world, lib, tmp_path) -> int:
    """Bob's song, which Mary's family then uploads for Mary too: one stored song, two residents."""
    sid = add_song(world, lib, world.bob, 330, "Bob's song", "Band", year="1950", tmp=tmp_path)
    body = song_file(tmp_path, "copy.wav", 330, title="Bob's song", artist="Band", date="1950").read_bytes()
    answer = _upload(world.client(world.mary_family), world.mary.id, "copy.wav", body)
    assert answer["song_id"] == sid
    return sid


def _upload(c, rid: int, name: str, body: bytes) -> dict:
    c.get(f"/residents/{rid}/upload")
    resp = c.c.post(f"/residents/{rid}/upload", data={"csrf_token": c.token, "files": (io.BytesIO(body), name)},
                    content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["files"][0]


def test_a_family_cannot_rename_a_song_another_residents_family_shares(world, lib, shared_song):
    c = world.client(world.mary_family)
    url = f"/residents/{world.mary.id}/songs/{shared_song}"
    c.get(url)
    resp = c.post(url, {"title": "Renamed", "artist": "Someone", "year": "2001", "note": "Her wedding"})
    assert resp.status_code == 403
    assert "shared with another resident, so only staff can change its details" in resp.get_data(as_text=True)
    resp = c.post(f"{url}/year", {"year": "1999"})
    assert resp.status_code == 403
    song = lib.db["songs"].get(shared_song)
    assert (song["title"], song["artist"], song["year"]) == ("Bob's song", "Band", 1950)
    # nothing half-saved: the note sent with the refused change was not kept either
    assert lib.db.execute("SELECT note FROM resident_songs WHERE song_id = ? AND resident_id = ?",
                          [shared_song, world.mary.id]).fetchone()[0] in (None, "")
    # the note alone is Mary's own, so that is still allowed
    resp = c.post(url, {"title": "Bob's song", "artist": "Band", "year": "1950", "note": "Her wedding"})
    assert resp.status_code == 302
    assert lib.db.execute("SELECT note FROM resident_songs WHERE song_id = ? AND resident_id = ?",
                          [shared_song, world.mary.id]).fetchone()[0] == "Her wedding"


def test_staff_and_a_family_who_sees_everyone_with_the_song_may_rename_it(world, lib, shared_song):
    s = world.client(world.staff)
    url = f"/residents/{world.mary.id}/songs/{shared_song}"
    s.get(url)
    assert s.post(url, {"title": "Bob's song (1950)", "artist": "Band", "year": "1950"}).status_code == 302
    assert lib.db["songs"].get(shared_song)["title"] == "Bob's song (1950)"
    accounts.link_resident(lib.db, world.mary_family.id, world.bob.id)
    c = world.client(world.mary_family)
    c.get(url)
    assert c.post(url, {"title": "Bob's song", "artist": "Band", "year": "1950"}).status_code == 302
    assert lib.db["songs"].get(shared_song)["title"] == "Bob's song"


def test_a_duplicate_upload_never_names_a_resident_the_family_cannot_see(world, lib, shared_song, tmp_path):
    body = song_file(tmp_path, "again.wav", 330, title="Bob's song", artist="Band", date="1950").read_bytes()
    again = _upload(world.client(world.mary_family), world.mary.id, "again.wav", body)
    assert again["status"] == "duplicate"
    assert "Bob" not in again["message"].replace("Bob's song", "")
    fresh = song_file(tmp_path, "other.wav", 347, title="Other", artist="Band").read_bytes()
    _upload(world.client(world.staff), world.bob.id, "other.wav", fresh)
    answer = _upload(world.client(world.mary_family), world.mary.id, "other.wav", fresh)
    assert answer["status"] == "added" and "already in the library" in answer["message"]
    assert "Bob" not in answer["message"]
    staff_answer = _upload(world.client(world.staff), world.mary.id, "mood.wav",
                           song_file(tmp_path, "m.wav", 359, title="Mood", artist="Band").read_bytes())
    assert staff_answer["status"] == "added"
    both = song_file(tmp_path, "m.wav", 359, title="Mood", artist="Band").read_bytes()
    assert "Mary's" in _upload(world.client(world.staff), world.bob.id, "mood.wav", both)["message"]


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


# --- 6. guesses sent all at once ---------------------------------------------------------------

def _all_at_once(app, url: str, forms: list[dict], *, one_address: bool = True) -> list[str]:
    """POST each form from its own browser at the same moment (from one address, or each
    from its own); return the answers."""
    clients = []
    for _ in forms:
        c = Browser(app.test_client())
        c.get(url)
        clients.append(c)
    barrier = threading.Barrier(len(forms))
    answers: list[str] = [""] * len(forms)

    def go(i: int) -> None:
        barrier.wait()
        address = "10.0.0.1" if one_address else f"10.0.0.{i + 1}"
        resp = clients[i].post(url, forms[i], environ_base={"REMOTE_ADDR": address})
        answers[i] = resp.get_data(as_text=True)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(forms))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return answers


def test_wrong_passwords_sent_all_at_once_are_still_slowed_down(world):
    forms = [{"email": world.staff.email, "password": f"guess-{i}"} for i in range(16)]
    answers = _all_at_once(world.app, "/login", forms)
    checked = sum("did not match" in a for a in answers)
    refused = sum("Too many tries" in a for a in answers)
    assert checked == accounts.FREE_TRIES and refused == len(forms) - checked
    # and the account is now waiting from that address, even with the right password ...
    assert "Too many tries" in _all_at_once(world.app, "/login", [{"email": world.staff.email,
                                                                "password": "staff-password-1"}])[0]
    # ... but not from the staff member's own phone: a stranger cannot lock staff out
    spread = _all_at_once(world.app, "/login", [{"email": world.staff.email, "password": "staff-password-1"}] * 2,
                          one_address=False)
    assert not any("Too many tries" in a for a in spread[1:])


def test_setup_codes_sent_all_at_once_are_still_slowed_down(lib):
    forms = [{"code": f"AAAA-BBBB-{i:04d}", "email": "sam@home.example", "password": "a-good-password",
              "again": "a-good-password"} for i in range(12)]
    answers = _all_at_once(make_app(lib.data), "/setup", forms)
    assert sum("setup code is not right" in a for a in answers) == accounts.FREE_TRIES
    assert sum("Too many tries" in a for a in answers) == len(forms) - accounts.FREE_TRIES


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
        assert "does not look like a birth year" in resp.get_data(as_text=True)
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


# --- many accounts guessed from one address ------------------------------------------------------

def test_guessing_many_accounts_from_one_address_is_slowed_but_others_can_still_log_in(lib):
    accounts.create_user(lib.db, "real@family.example", "right-password", "family")
    now = 1_000_000.0
    for i in range(accounts.FREE_TRIES_PER_ADDRESS):
        with pytest.raises(accounts.LoginRefused, match="did not match"):
            accounts.authenticate(lib.db, f"guess{i}@x.example", "wrong", remote="192.168.1.50", now=now + i)
    later = now + accounts.FREE_TRIES_PER_ADDRESS
    with pytest.raises(accounts.LoginRefused, match="Too many tries"):
        accounts.authenticate(lib.db, "real@family.example", "right-password", remote="192.168.1.50", now=later)
    # the same account from another phone on the network is not held up
    assert accounts.authenticate(lib.db, "real@family.example", "right-password", remote="192.168.1.51",
                                 now=later).email == "real@family.example"


def test_staff_can_log_a_lost_phone_out_from_the_command_line(world, lib, capsys):
    from content import cli
    phone = world.client(world.mary_family)
    assert phone.get(f"/residents/{world.mary.id}").status_code == 200
    assert cli.main(["users", "logout", "--email", world.mary_family.email, "--db", str(lib.db_path)]) == 0
    assert "logged out everywhere" in capsys.readouterr().out
    assert phone.get(f"/residents/{world.mary.id}").status_code == 302
    assert cli.main(["users", "logout", "--email", "nobody@x.example", "--db", str(lib.db_path)]) != 0
    assert "There is no account for nobody@x.example" in capsys.readouterr().err
