"""Shared pieces for the admin's tests: the real app on a real library, accounts, and a
client that logs in and carries the CSRF token like a browser does."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from content import accounts, library
from content.web import create_app
from tests.audio import write_song

STAFF_PW = "staff-password-1"
FAMILY_PW = "family-password-1"
_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class World:
    """Two residents, a staff member, and one family member for each resident."""

    app: Flask
    data: Path
    media: Path
    mary: library.Resident
    bob: library.Resident
    staff: accounts.User
    mary_family: accounts.User
    bob_family: accounts.User
    songs: dict[str, int] = field(default_factory=dict)

    def client(self, user: accounts.User | None = None) -> "Browser":
        c = Browser(self.app.test_client())
        if user is not None:
            c.login(user.email, STAFF_PW if user.is_staff else FAMILY_PW)
        return c


class Browser:
    """A Flask test client that, like a browser, sends back the CSRF token of the last page."""

    def __init__(self, client: FlaskClient) -> None:
        self.c = client
        self.token: str | None = None

    def get(self, url: str, **kw):
        resp = self.c.get(url, **kw)
        m = _TOKEN.search(resp.get_data(as_text=True)) if resp.mimetype == "text/html" else None
        if m:
            self.token = m.group(1)
        return resp

    def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kw):
        data = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/login")
            data.setdefault("csrf_token", self.token)
        return self.c.post(url, data=data, **kw)

    def login(self, email: str, password: str):
        self.get("/login")
        resp = self.post("/login", {"email": email, "password": password})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        self.get("/")
        return resp


def make_app(data: Path, **config) -> Flask:
    cfg = {"DATA_DIR": data, "SECRET_KEY": "test-secret", "MIN_SONG_SECONDS": 1.0, "TESTING": True,
           "PUBLIC_URL": "http://evergreen.test:8080"}
    cfg.update(config)
    return create_app(cfg)


@pytest.fixture
def world(lib) -> World:
    app = make_app(lib.data, MAX_UPLOAD_BYTES=4 * 1024 * 1024)
    mary = library.add_resident(lib.db, "Mary", birth_year=1938)
    bob = library.add_resident(lib.db, "Bob", birth_year=1931)
    staff = accounts.create_user(lib.db, "staff@home.example", STAFF_PW, "staff", display_name="Sam")
    mf = accounts.create_user(lib.db, "anne@family.example", FAMILY_PW, "family", resident_ids=[mary.id])
    bf = accounts.create_user(lib.db, "ben@family.example", FAMILY_PW, "family", resident_ids=[bob.id])
    return World(app, lib.data, lib.media, mary, bob, staff, mf, bf)


def song_file(folder: Path, name: str, freq: float, *, seconds: float = 2.0, fmt: str = ".wav", **tags) -> Path:
    return write_song(folder / name, freq, seconds, fmt=fmt, tags=tags or None)


def add_song(world: World, lib, resident: library.Resident, freq: float, title: str, artist: str,
             year: str | None = None, tmp: Path | None = None, seconds: float = 2.0) -> int:
    """Put a real song into a resident's library through ingest, as an upload would."""
    from content import ingest
    tags = {"title": title, "artist": artist}
    if year:
        tags["date"] = year
    path = song_file(tmp or world.data, f"{title}.wav", freq, seconds=seconds, **tags)
    result = ingest.ingest_file(lib.db, world.media, path, resident_id=resident.id, min_seconds=1.0)
    assert result.status == "added", result.reason
    path.unlink()
    return result.song_id
