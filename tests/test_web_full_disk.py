"""A full disk is a message, on the real server, at every point an upload writes: the
request body, the decoder's scratch space, the media folder and the database. Each answers
in plain words, as a page and as JSON for the phone's uploader; no 500, no dropped
connection, and a good song is never called damaged because the disk filled. Staff see a
warning from 90 % full.

The disks are small real tmpfs mounts, which needs root; as any other user these tests
skip, and the same answers are covered by test_ingest's and test_kiosk_full_disk's
file-size-limit cases."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.live import LiveBrowser, serve
from tests.test_web_fixtures import FAMILY_PW, STAFF_PW, add_song, make_app, song_file
from tests.test_web_security import _live_upload

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs (see the module's note)")


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the disk holding `folder`, leaving about `leave` bytes free."""
    filler = folder / "filler"
    st = os.statvfs(folder)
    room = st.f_bavail * st.f_frsize - leave
    with open(filler, "wb") as fh:
        try:
            while room > 0:
                fh.write(b"\0" * min(room, 1 << 20))
                room -= 1 << 20
        except OSError:
            pass
    return filler


@pytest.fixture
def box(lib, tmp_path):
    """The admin with its whole data folder (library, media, upload spool) on a 24 MB disk."""
    data = tmp_path / "data"
    with tmpfs(data, "24m"):
        from content import accounts, library
        from content import db as dbmod
        db = dbmod.connect(data / "library.db")
        mary = library.add_resident(db, "Mary", birth_year=1938)
        staff = accounts.create_user(db, "staff@home.example", STAFF_PW, "staff")
        anne = accounts.create_user(db, "anne@family.example", FAMILY_PW, "family", resident_ids=[mary.id])
        db.close()
        app = make_app(data, MAX_UPLOAD_BYTES=8 * 1024 * 1024)
        app.testing = False                      # errors are answered as the real server answers them
        app.config["PROPAGATE_EXCEPTIONS"] = False
        yield app, data, mary, staff, anne




def post_file(browser: LiveBrowser, rid: int, name: str, body: bytes, *, json: bool):
    browser.get(f"/residents/{rid}/upload")
    boundary = "full-disk-boundary"
    data = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{browser.token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            f'Content-Type: audio/wav\r\n\r\n').encode() + body + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if json:
        headers["Accept"] = "application/json"
    return browser.request("POST", f"/residents/{rid}/upload", data, headers)


def full_words_in(answer, *, json: bool) -> None:
    assert answer.status < 500 or answer.status == 507, (answer.status, answer.text[:300])
    if json:
        payload = answer.json()
        text = payload.get("error") or " ".join(f.get("message", "") for f in payload.get("files", []))
    else:
        assert answer.headers["Content-Type"].startswith("text/html")
        text = answer.text
    assert "storage is full" in text and "care staff" in text, text[:500]
    assert "cut short" not in text and "damaged" not in text and "Traceback" not in text


@pytest.mark.parametrize("json", [True, False], ids=["json", "html"])
def test_a_full_disk_while_the_body_arrives_is_a_message(box, tmp_path, json):
    app, data, mary, staff, anne = box
    body = song_file(tmp_path, "big.wav", 440, seconds=30.0, title="Big").read_bytes()    # ~5 MB
    fill(data, leave=1024 * 1024)
    with serve(app) as base:
        phone = LiveBrowser(base)
        phone.login(anne.email, FAMILY_PW)
        full_words_in(post_file(phone, mary.id, "big.wav", body, json=json), json=json)
    assert not any((data / "upload-tmp").iterdir())


def test_a_full_temporary_disk_never_stops_a_good_song(box, tmp_path, monkeypatch):
    """The decoder measures a song through a pipe and writes nothing on the way, so a full
    temporary folder cannot cut its decoding short and make a good song look damaged."""
    app, data, mary, staff, anne = box
    body = song_file(tmp_path, "good.wav", 440, seconds=20.0, title="Good song").read_bytes()
    with tmpfs(tmp_path / "scratch", "160k") as scratch:       # 20 s of decoded sound is 3.5 MB
        monkeypatch.setenv("TMPDIR", str(scratch))
        with serve(app) as base:
            phone = LiveBrowser(base)
            phone.login(anne.email, FAMILY_PW)
            answer = post_file(phone, mary.id, "good.wav", body, json=True)
            assert answer.status == 200
            (result,) = answer.json()["files"]
            assert result["status"] == "added", result


@pytest.mark.parametrize("json", [True, False], ids=["json", "html"])
def test_a_full_media_folder_is_a_message(box, tmp_path, json):
    app, data, mary, staff, anne = box
    body = song_file(tmp_path, "mid.wav", 440, seconds=12.0, title="Mid").read_bytes()     # ~2 MB
    with serve(app) as base:
        phone = LiveBrowser(base)
        phone.login(anne.email, FAMILY_PW)
        phone.get(f"/residents/{mary.id}/upload")
        # Room for the body to arrive, not for a second copy in the media folder.
        fill(data, leave=len(body) + 600 * 1024)
        full_words_in(post_file(phone, mary.id, "mid.wav", body, json=json), json=json)
    assert [p.name for p in (data / "media").iterdir() if not p.name.startswith(".")] == []


def test_a_full_disk_when_the_database_is_written_is_a_message(box, tmp_path):
    app, data, mary, staff, anne = box
    with serve(app) as base:
        phone = LiveBrowser(base)
        phone.login(anne.email, FAMILY_PW)
        phone.get(f"/residents/{mary.id}/settings")
        conn = sqlite3.connect(data / "library.db")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")       # the next write needs new space
        conn.close()
        filler = fill(data)
        answer = phone.post(f"/residents/{mary.id}/settings", {"birth_year": "1939"})
        full_words_in(answer, json=False)
        assert answer.status == 507
        filler.unlink()
        assert phone.post(f"/residents/{mary.id}/settings", {"birth_year": "1939"}).status == 302


def test_staff_see_storage_nearly_full_from_ninety_percent(box):
    app, data, mary, staff, anne = box
    with serve(app) as base:
        sam = LiveBrowser(base)
        sam.login(staff.email, STAFF_PW)
        assert "storage is" not in sam.get("/").text
        st = os.statvfs(data)
        fill(data, leave=int(st.f_blocks * st.f_frsize * 0.08))
        page = sam.get("/").text
        assert "storage is 9" in page and "full" in page
        phone = LiveBrowser(base)
        phone.login(anne.email, FAMILY_PW)
        assert "storage is" not in phone.get(f"/residents/{mary.id}").text
