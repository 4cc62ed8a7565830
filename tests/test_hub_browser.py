"""The family's journey on a phone, over the hub's HTTPS address (a real Caddy with `tls
internal` in front of the real hub): staff invite a daughter from anywhere, she accepts
the link and uploads a song; box A, which plays for her mother, receives it and plays it;
box B, which plays for someone else, never receives it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from content import accounts, control
from tests.hubkit import STAFF_PW, Box, Caddy, Hub, free_port, wait_for
from tests.audio import write_song
from tests.test_kiosk_process import Notifications, write_config
from tests import phone
from tests.phone import PHONE, SHOTS, small_targets

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def test_a_daughter_far_away_adds_a_song_over_https_and_only_her_mothers_box_plays_it(tmp_path):
    https_port = free_port()
    public = f"https://127.0.0.1:{https_port}"
    hub = Hub(tmp_path / "hub").start(PUBLIC_URL=public)
    caddy = Caddy(tmp_path, hub.port, https_port)
    a, b = Box(tmp_path / "box-a"), Box(tmp_path / "box-b")
    kiosk = None
    try:
        home = hub.home("Rose House")
        mary, bob = hub.resident("Mary", home), hub.resident("Bob", home, 1931)
        hub.song(bob, 660, "Bob One")
        staff = hub.staff("sam@group.example")
        _, code_a = hub.box(home, "Mary's room", [mary])
        _, code_b = hub.box(home, "Bob's room", [bob])
        assert a.join(public, code_a, ca_file=str(caddy.root))[0] == 0
        assert b.join(public, code_b, ca_file=str(caddy.root))[0] == 0
        a.start_agent()
        b.start_agent()
        song = write_song(tmp_path / "Vera Lynn - We'll Meet Again.ogg", 440, 12, fmt=".ogg",
                          tags={"title": "We'll Meet Again", "artist": "Vera Lynn", "date": "1939"})

        with sync_playwright() as p:
            browser = phone.launch(p)
            try:
                ctx = browser.new_context(ignore_https_errors=True, **PHONE)
                page = ctx.new_page()
                page.goto(public + "/login")
                page.fill("#email", staff.email)
                page.fill("#password", STAFF_PW)
                page.click("button:has-text('Log in')")
                page.goto(f"{public}/residents/{mary.id}")
                page.get_by_role("link", name="Invite a family member").click()
                page.fill("#label", "Anne, her daughter")
                page.click("button:has-text('Make an invitation link')")
                link = page.inner_text("#invite-link")
                assert link.startswith(public + "/invite/")
                ctx.close()

                family = browser.new_context(ignore_https_errors=True, **PHONE)
                page = family.new_page()
                page.goto(link)
                page.fill("#name", "Anne")
                page.fill("#email", "anne@family.example")
                page.fill("#password", "anne-password")
                page.fill("#again", "anne-password")
                page.click("button:has-text('Create my account')")
                page.wait_for_selector("text=Welcome. You can now add songs for Mary.")
                cookies = {c["name"]: c for c in family.cookies()}
                assert cookies["session"]["secure"] is True
                page.get_by_role("link", name="Add songs", exact=True).click()
                page.set_input_files("#files", [str(song)])
                page.wait_for_function("() => document.querySelectorAll('#progress li.added').length === 1",
                                       timeout=30_000)
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "hub-upload-page.png"), full_page=True)
                assert small_targets(page) == []
                family.close()
            finally:
                browser.close()

        sid = hub.db.execute("SELECT id FROM songs WHERE title = ?", ["We'll Meet Again"]).fetchone()[0]
        wait_for(lambda: [s.song_id for s in a.songs(mary.id)] == [sid], 30, "box A received the song")
        notify = Notifications(tmp_path / "a.notify")
        cfg = write_config(tmp_path / "a.toml", a.data, tmp_path / "a.wav")
        kiosk = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(cfg)], cwd=ROOT,
                                 env={**os.environ, "PYTHONPATH": str(ROOT),
                                      "NOTIFY_SOCKET": str(notify.path)},
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        notify.wait("READY=1", 30)
        assert control.press(a.data / "kiosk.sock", "play")["ok"]
        wait_for(lambda: (control.status(a.data / "kiosk.sock")["status"].get("song") or {}).get("id") == sid, 15,
                 "box A plays the daughter's song")
        wait_for(lambda: b.songs(bob.id), 20, "box B has Bob's song")
        assert sid not in {s.song_id for s in b.songs(bob.id)}
        assert not any(n.startswith(a.songs(mary.id)[0].sha256) for n in b.files())
        assert accounts.find_user(hub.db, "anne@family.example") is not None
    finally:
        if kiosk is not None:
            kiosk.terminate()
            kiosk.wait(15)
        a.close()
        b.close()
        caddy.close()
        hub.close()
