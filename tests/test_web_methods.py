"""No state changes on GET or HEAD, and CSRF on every other method, tried against the real
server the way someone crafting requests would: HEAD with a form or a file in it, every
readable address read with a body, every changing address posted without its token."""
from __future__ import annotations

import re
import sqlite3

import pytest

from content import account_links
from tests.live import LiveBrowser, serve
from tests.test_web_fixtures import FAMILY_PW, STAFF_PW, add_song, song_file, world  # noqa: F401

BOUNDARY = "evergreen-methods"


def snapshot(world) -> tuple:
    conn = sqlite3.connect(world.data / "library.db")
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        rows = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    finally:
        conn.close()
    media = sorted((p.name, p.stat().st_size) for p in world.media.rglob("*") if p.is_file())
    return rows, media


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    for key, (name, data) in files.items():
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"; filename="{name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def filled(world, lib, tmp_path):
    world.songs["one"] = add_song(world, lib, world.mary, 440, "One", "Band", tmp=tmp_path)
    world.songs["token"] = account_links.create_invite(lib.db, world.mary.id)
    return world


def test_head_with_a_file_or_a_form_in_it_changes_nothing(filled, tmp_path):
    world = filled
    song = song_file(tmp_path, "new.wav", 523, title="Sneaked in").read_bytes()
    before = snapshot(world)
    with serve(world.app) as base:
        anne = LiveBrowser(base)
        anne.login(world.mary_family.email, FAMILY_PW)
        rid = world.mary.id
        for path, body in ((f"/residents/{rid}/upload", multipart({}, {"files": ("new.wav", song)})),
                           (f"/residents/{rid}/photo", multipart({}, {"photo": ("p.png", PNG)})),
                           (f"/residents/{rid}/settings", multipart({"birth_year": "1901"}, {})),
                           (f"/residents/{rid}/songs/{world.songs['one']}", multipart({"title": "Renamed"}, {}))):
            for method in ("HEAD", "GET"):
                answer = anne.request(method, path, body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
                assert answer.status == 400, (method, path, answer.status)
    assert snapshot(world) == before


def _readable_addresses(world, app) -> list[str]:
    values = {"rid": world.mary.id, "sid": world.songs["one"], "uid": world.mary_family.id,
              "token": world.songs["token"], "filename": "admin.css", "upload_id": "an-upload-nobody-started00",
              "reaction_id": 1, "index": 0, "chart": "minutes", "iid": 1}
    sha = None
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = {}
        for arg in rule.arguments:
            if arg == "name":
                if sha is None:
                    import sqlite3 as _s
                    conn = _s.connect(world.data / "library.db")
                    sha = "{}.{}".format(*conn.execute("SELECT sha256, ext FROM songs").fetchone())
                    conn.close()
                args[arg] = sha
            else:
                args[arg] = values[arg]
        path = rule.rule
        for arg, value in args.items():
            path = re.sub(rf"<(?:\w+:)?{arg}>", str(value), path)
        out.append(path)
    return out


def test_no_readable_address_changes_anything_when_read_even_with_a_body(filled):
    world = filled
    form = "title=Renamed&year=1901&birth_year=1901&password=x&new=a-new-long-phrase&again=a-new-long-phrase" \
           "&action=shutdown&never_play=1&favourite=1&email=x%40y.example&name=Evil&note=changed"
    with serve(world.app) as base:
        staff = LiveBrowser(base)
        staff.login(world.staff.email, STAFF_PW)
        addresses = _readable_addresses(world, world.app)
        assert len(addresses) >= 12
        before = snapshot(world)
        for path in addresses:
            for method in ("GET", "HEAD"):
                assert staff.request(method, path).status < 500, (method, path)
                with_body = staff.request(method, path, form.encode(),
                                          {"Content-Type": "application/x-www-form-urlencoded"})
                assert with_body.status == 400, (method, path, with_body.status)
            now = snapshot(world)
            changed = [t for t in now[0] if now[0][t] != before[0].get(t) and t != "audit_log"]
            assert not changed and now[1] == before[1], (path, changed)
            # Reading may be recorded (who exported a resident's data), never anything else.
            added = [row for row in now[0]["audit_log"] if row not in before[0]["audit_log"]]
            assert all(row[3].endswith(".export") for row in added), (path, added)
            before = now


def test_every_changing_address_wants_the_pages_token_whatever_the_method(filled):
    world = filled
    with serve(world.app) as base:
        staff = LiveBrowser(base)
        staff.login(world.staff.email, STAFF_PW)
        before = snapshot(world)
        for rule in world.app.url_map.iter_rules():
            if rule.endpoint == "static" or not (rule.methods - {"GET", "HEAD", "OPTIONS"}):
                continue
            path = rule.rule
            for arg, value in (("rid", world.mary.id), ("sid", world.songs["one"]), ("uid", world.mary_family.id),
                               ("token", world.songs["token"])):
                path = re.sub(rf"<(?:\w+:)?{arg}>", str(value), path)
            for method in ("POST", "PUT", "DELETE", "PATCH"):
                answer = staff.request(method, path, b"title=x&never_play=1&action=next",
                                       {"Content-Type": "application/x-www-form-urlencoded"})
                assert answer.status in (400, 405), (method, path, answer.status)
                if answer.status == 400:
                    assert "reload the page" in answer.text
        assert snapshot(world) == before
