"""The family's journey in a real browser: Debian's Chromium, headless, phone-sized,
driving the real admin served by waitress on 127.0.0.1.

Staff logs in, adds a resident, makes an invite; the family member opens it, sets a
password, uploads two songs, sees them with their years, marks one never-play; the
library the kiosk reads then offers only the other. Bad files are refused in plain words
and nothing is stored. Screenshots go to test-output/screenshots/.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from content import accounts, library, queue
from content.web.__main__ import make_server
from tests import phone
from tests.audio import write_song
from tests.test_web_fixtures import STAFF_PW, make_app

pytestmark = pytest.mark.slow

ROOT = phone.ROOT
SHOTS = phone.SHOTS
PHONE = phone.PHONE
LIMIT = 3 * 1024 * 1024


@pytest.fixture
def server(lib):
    app = make_app(lib.data, MAX_UPLOAD_BYTES=LIMIT, MIN_SONG_SECONDS=5.0, SECRET_KEY="browser-test")
    srv = make_server(app, "127.0.0.1", 0)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{srv.effective_port}"   # what the box's settings would say
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield app.config["PUBLIC_URL"]
    finally:
        srv.close()
        thread.join(5)


@pytest.fixture
def browser():
    with sync_playwright() as p:
        b = phone.launch(p)
        try:
            yield b
        finally:
            b.close()


_small_targets = phone.small_targets


def _media_files(lib) -> list[Path]:
    return [p for p in lib.media.iterdir() if p.is_file() and not p.name.startswith(".")]


def test_family_journey_on_a_phone(server, browser, lib, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    accounts.create_user(lib.db, "sam@home.example", STAFF_PW, "staff", display_name="Sam")
    vera = write_song(tmp_path / "Vera Lynn - We'll Meet Again.ogg", 440, 12, fmt=".ogg",
                      tags={"title": "We'll Meet Again", "artist": "Vera Lynn", "date": "1939"})
    glenn = write_song(tmp_path / "moonlight.mp3", 520, 12, fmt=".mp3",
                       tags={"title": "Moonlight Serenade", "artist": "Glenn Miller", "date": "1939"})

    # Staff: log in, add Mary, invite her daughter.
    staff = browser.new_context(**PHONE)
    page = staff.new_page()
    page.goto(server + "/")
    assert _small_targets(page) == []
    page.fill("#email", "sam@home.example")
    page.fill("#password", STAFF_PW)
    page.click("button:has-text('Log in')")
    page.get_by_role("link", name="Add a resident").click()
    page.fill("#name", "Mary")
    page.fill("#birth_year", "1938")
    page.click("button:has-text('Add resident')")
    page.wait_for_selector("h1:has-text('Mary')")
    page.get_by_role("link", name="Invite a family member").click()
    page.fill("#label", "Anne, her daughter")
    page.click("button:has-text('Make an invitation link')")
    link = page.inner_text("#invite-link")
    assert link.startswith(server + "/invite/")
    staff.close()

    # Family: open the invite on a phone, set a password.
    family = browser.new_context(**PHONE)
    page = family.new_page()
    blocked: list[str] = []   # anything the page's Content-Security-Policy stopped
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(link)
    page.fill("#name", "Anne")
    page.fill("#email", "anne@family.example")
    page.fill("#password", "anne-password")
    page.fill("#again", "anne-password")
    page.click("button:has-text('Create my account')")
    page.wait_for_selector("text=Welcome. You can now add songs for Mary.")

    # Upload two songs: each gets its own bar and its own answer.
    page.get_by_role("link", name="Add songs", exact=True).click()
    page.set_input_files("#files", [str(vera), str(glenn)])
    page.wait_for_function("() => document.querySelectorAll('#progress li.added').length === 2", timeout=30_000)
    answers = page.inner_text("#progress")
    assert "added “We'll Meet Again” by Vera Lynn" in answers
    assert "added “Moonlight Serenade” by Glenn Miller" in answers

    # Bad files, the same way: plain words, nothing stored.
    page.set_input_files("#files", [
        {"name": "shopping list.mp3", "mimeType": "audio/mpeg", "buffer": b"eggs, milk, bread\n" * 200},
        {"name": "empty.mp3", "mimeType": "audio/mpeg", "buffer": b""},
        {"name": "../../Ça été ♫.mp3", "mimeType": "audio/mpeg", "buffer": b"\x00\x01" * 4000},
        {"name": "huge.wav", "mimeType": "audio/wav", "buffer": b"\x00" * (LIMIT + 1)},
    ])
    page.wait_for_function("() => document.querySelectorAll('#progress li.refused').length === 4", timeout=30_000)
    refused = page.inner_text("#progress")
    assert "shopping list.mp3: not added. This is a text document, not a song." in refused
    assert "empty.mp3: not added. The file is empty." in refused
    assert "Ça été ♫.mp3: not added." in refused
    assert "huge.wav: not added. It is too big; the most is 3 MB." in refused
    # The batch ends with how it went, then why.
    summary = page.inner_text("#upload-summary")
    assert summary.startswith("2 added, 4 not added:"), summary
    assert "huge.wav: It is too big; the most is 3 MB." in summary
    page.screenshot(path=str(SHOTS / "plain-words-upload-summary-added-and-not-added-why.png"), full_page=True)
    assert _small_targets(page) == []
    assert len(_media_files(lib)) == 2

    # See them with their years, then red-flag one.
    page.get_by_role("link", name="See Mary's songs").click()
    page.wait_for_selector("li.song >> nth=1")
    listing = page.inner_text("ul.songs")
    assert "We'll Meet Again" in listing and "Moonlight Serenade" in listing
    assert listing.count("1939") == 2
    page.screenshot(path=str(SHOTS / "resident-page.png"), full_page=True)
    row = page.locator("li.song", has_text="Moonlight Serenade")
    row.locator("summary").click()
    row.get_by_role("link", name="Never play…").click()
    page.fill("#reason", "Too sad for her")
    page.click("button:has-text('Yes, never play it')")
    page.wait_for_selector("text=“Moonlight Serenade” will never play for Mary.")
    assert "Never plays: Too sad for her" in page.inner_text("ul.songs")
    page.screenshot(path=str(SHOTS / "resident-page-flagged.png"), full_page=True)

    mary = library.resident_by_name(lib.db, "Mary")
    playable = queue.playable(queue.candidates(lib.db, mary.id))
    assert [c.title for c in playable] == ["We'll Meet Again"]

    assert _small_targets(page) == []
    page.get_by_role("link", name="We'll Meet Again").click()
    page.wait_for_selector("label:has-text('Why this song matters')")
    page.screenshot(path=str(SHOTS / "song-page.png"), full_page=True)
    assert _small_targets(page) == []
    assert blocked == []
    family.close()


def test_too_big_without_javascript_gets_a_plain_page(server, browser, lib, tmp_path):
    accounts.create_user(lib.db, "sam@home.example", STAFF_PW, "staff")
    mary = library.add_resident(lib.db, "Mary", birth_year=1938)
    big = tmp_path / "long.wav"
    write_song(big, 300, 20)  # about 3.5 MB, over the 3 MB limit
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    page = ctx.new_page()
    page.goto(server + "/login")
    page.fill("#email", "sam@home.example")
    page.fill("#password", STAFF_PW)
    page.click("button:has-text('Log in')")
    page.goto(f"{server}/residents/{mary.id}/upload")
    page.set_input_files("#files", str(big))
    page.click("button:has-text('Send the songs')")
    page.wait_for_selector("text=This file is too big. The largest song you can send is 3 MB.")
    assert _media_files(lib) == []
    assert list((lib.data / "upload-tmp").iterdir()) == []
    ctx.close()
