"""Text from people is cleaned on every path, through the real server and the real command
line: no control characters reach the library (or a terminal that lists it), lengths are
bounded with a plain refusal, a search of any length is cut rather than failing, and any
unexpected error is a friendly page."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import LiveBrowser, serve
from tests.test_web_fixtures import FAMILY_PW, STAFF_PW, add_song, world  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
NASTY = "\x1b[2J\x1b]0;owned\x07\u202e\x08\x7f"


def cli(data: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "content", *argv], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "EVERGREEN_DATA": str(data)}, timeout=120)


def unprintable(text: str) -> list[str]:
    return [c for c in text if not c.isprintable() and c != "\n"]


@pytest.fixture
def plain(world):
    world.app.testing = False
    world.app.config["PROPAGATE_EXCEPTIONS"] = False
    return world


def test_control_characters_never_reach_the_library_or_the_terminal(plain, lib, tmp_path):
    world = plain
    sid = add_song(world, lib, world.mary, 440, "Moonlight", "Band", tmp=tmp_path)
    with serve(world.app) as base:
        anne = LiveBrowser(base)
        anne.login(world.mary_family.email, FAMILY_PW)
        url = f"/residents/{world.mary.id}/songs/{sid}"
        anne.get(url)
        saved = anne.post(url, {"title": f"Moon{NASTY}light", "artist": f"Glenn{NASTY} Miller",
                                "note": f"First line{NASTY}\nsecond line"})
        assert saved.status == 302, saved.text
        anne.post(f"{url}/never-play", {"never_play": "1", "reason": f"Upset{NASTY}her"})
        sam = LiveBrowser(base)
        sam.login(world.staff.email, STAFF_PW)
        sam.get("/residents/new")
        assert sam.post("/residents/new", {"name": f"Bet{NASTY}ty", "birth_year": "1931"}).status == 302
    assert cli(world.data, "residents", "add", f"Al{NASTY}bert").returncode == 0
    listed = cli(world.data, "songs", "list", "--resident", "Mary").stdout
    assert "Moon" in listed and not unprintable(listed), repr(listed)
    dumped = cli(world.data, "songs", "list", "--resident", "Mary", "--json").stdout
    assert "\\u001b" not in dumped and "\\u202e" not in dumped and "second line" in dumped
    names = cli(world.data, "residents", "list").stdout
    assert "Bet" in names and "Al" in names and not unprintable(names), repr(names)
    row = lib.db["resident_songs"].get((world.mary.id, sid))
    for value in (row["title"], row["artist"], row["note"], row["never_play_reason"]):
        assert not unprintable(value), repr(value)
    assert row["note"].splitlines()[1] == "second line"


def test_text_too_long_is_refused_in_plain_words_and_nothing_is_saved(plain, lib, tmp_path):
    world = plain
    sid = add_song(world, lib, world.mary, 440, "Moonlight", "Band", tmp=tmp_path)
    before = lib.db["resident_songs"].get((world.mary.id, sid))
    with serve(world.app) as base:
        anne = LiveBrowser(base)
        anne.login(world.mary_family.email, FAMILY_PW)
        url = f"/residents/{world.mary.id}/songs/{sid}"
        anne.get(url)
        for fields, words in (({"title": "x" * 400_000}, "title is too long"),
                              ({"title": "Fine", "note": "y" * 5000}, "note is too long"),
                              ({"title": "Fine", "artist": "z" * 300}, "singer or band is too long")):
            answer = anne.post(url, fields)
            assert answer.status == 400 and words in answer.text, answer.text[:300]
        sam = LiveBrowser(base)
        sam.login(world.staff.email, STAFF_PW)
        sam.get("/residents/new")
        answer = sam.post("/residents/new", {"name": "N" * 500})
        assert answer.status == 400 and "name is too long" in answer.text
    assert lib.db["resident_songs"].get((world.mary.id, sid)) == before
    done = cli(world.data, "residents", "add", "Q" * 500)
    assert done.returncode == 2 and "name is too long" in done.stderr and "Traceback" not in done.stderr


def test_a_search_of_any_length_is_cut_never_a_server_error(plain, lib, tmp_path):
    world = plain
    add_song(world, lib, world.mary, 440, "Moonlight Serenade", "Glenn Miller", tmp=tmp_path)
    with serve(world.app) as base:
        anne = LiveBrowser(base)
        anne.login(world.mary_family.email, FAMILY_PW)
        from urllib.parse import quote
        for q in ("a" * 60_000, "_" * 55_000, f"Moon{NASTY}"):
            answer = anne.get(f"/residents/{world.mary.id}?q={quote(q)}")
            assert answer.status == 200, (len(q), answer.status)
        assert "Moonlight Serenade" in anne.get(f"/residents/{world.mary.id}?q=Moon").text
        # An address longer than the server reads at all: refused in a sentence, not a 500.
        answer = anne.get(f"/residents/{world.mary.id}?q={quote('%' * 60_000)}")
        assert answer.status == 431 and "address is too long" in answer.text


def test_an_unexpected_error_is_a_friendly_page_or_sentence(plain, monkeypatch):
    world = plain
    from content import listings

    def broken(*args, **kwargs):
        raise RuntimeError("something nobody expected")
    monkeypatch.setattr(listings, "recent_plays", broken)
    with serve(world.app) as base:
        anne = LiveBrowser(base)
        anne.login(world.mary_family.email, FAMILY_PW)
        page = anne.get(f"/residents/{world.mary.id}/history")
        assert page.status == 500 and page.headers["Content-Type"].startswith("text/html")
        assert "Something went wrong" in page.text and "tell the care staff" in page.text
        assert "nobody expected" not in page.text and "Traceback" not in page.text
        as_json = anne.get(f"/residents/{world.mary.id}/history", headers={"Accept": "application/json"})
        assert as_json.status == 500 and "tell the care staff" in as_json.json()["error"]
