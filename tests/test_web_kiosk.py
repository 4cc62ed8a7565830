"""The admin and the real kiosk: now playing, the on-screen panel, and the red flag
stopping a song that is playing. The kiosk runs as `python -m kiosk run` with silent
(dummy) audio on the same library."""
from __future__ import annotations

import pytest

from tests.kiosk_process import kiosk_status as _status, poll as _poll, run_kiosk
from tests.test_web_fixtures import add_song, world  # noqa: F401



@pytest.fixture
def kiosk(world, lib, tmp_path):
    """The real kiosk, for Mary, on the world's library, with silent audio."""
    # Half a minute each: still playing while a test looks at what is playing.
    for title, freq in (("First song", 330), ("Second song", 440), ("Third song", 550)):
        world.songs[title] = add_song(world, lib, world.mary, freq, title, "Band", tmp=tmp_path, seconds=30)
    with run_kiosk(world.data, "Mary", tmp_path) as sock:
        yield sock


def _press(c, action: str):
    c.get("/kiosk")
    return c.post("/kiosk/press", {"action": action}, follow_redirects=True)


def test_panel_plays_and_shows_now_playing(world, kiosk):
    c = world.client(world.staff)
    page = c.get("/kiosk").get_data(as_text=True)
    assert "The kiosk: Mary's music" in page
    for label in ("Play", "Next song", "Louder", "Quieter", "Bob&#39;s music"):
        assert f">{label}</button>" in page
    resp = _press(c, "play")
    assert "Sent: Play." in resp.get_data(as_text=True)
    playing = _poll(lambda: (s := _status(kiosk)) and s["song"] and s, "music to start")
    title = playing["song"]["title"]
    assert title in ("First song", "Second song", "Third song")
    assert title in c.get("/kiosk").get_data(as_text=True)
    fam = world.client(world.mary_family).get(f"/residents/{world.mary.id}/now-playing").get_data(as_text=True)
    assert title in fam
    other = world.client(world.bob_family).get(f"/residents/{world.bob.id}/now-playing").get_data(as_text=True)
    assert "not playing Bob&#39;s music just now" in other and title not in other
    _press(c, "next")
    _poll(lambda: (s := _status(kiosk)) and s["song"] and s["song"]["title"] != title, "the next song")


def test_now_playing_follows_the_resident_not_their_name(world, lib, kiosk):
    c = world.client(world.staff)
    _press(c, "play")
    playing = _poll(lambda: (s := _status(kiosk)) and s["song"] and s, "music to start")
    assert playing["resident_id"] == world.mary.id
    c.get(f"/residents/{world.mary.id}/settings")
    c.post(f"/residents/{world.mary.id}/settings", {"name": "Mary Ellen", "birth_year": "1938"})
    page = world.client(world.mary_family).get(f"/residents/{world.mary.id}/now-playing").get_data(as_text=True)
    assert playing["song"]["title"] in page


def test_panel_refuses_unknown_actions(world, kiosk):
    c = world.client(world.staff)
    resp = _press(c, "rm -rf /")
    assert "not one the kiosk knows" in resp.get_data(as_text=True)
    assert _status(kiosk)["state"] == "stopped"


def test_red_flag_stops_the_song_playing_now(world, lib, kiosk):
    staff = world.client(world.staff)
    _press(staff, "play")
    playing = _poll(lambda: (s := _status(kiosk)) and s["song"] and s, "music to start")
    sid = playing["song"]["id"]
    fam = world.client(world.mary_family)
    fam.get(f"/residents/{world.mary.id}")
    resp = fam.post(f"/residents/{world.mary.id}/songs/{sid}/never-play", {"never_play": "1", "back": "list"},
                    follow_redirects=True)
    assert "not running" not in resp.get_data(as_text=True)
    _poll(lambda: (s := _status(kiosk)) and (s["song"] is None or s["song"]["id"] != sid), "the song to stop")
    ended = _poll(lambda: lib.db.execute(
        "SELECT ended_how FROM plays WHERE song_id = ? AND ended_how IS NOT NULL", [sid]).fetchone(), "the play to end")
    assert ended[0] == "red_flag"


def test_panel_says_politely_when_the_kiosk_is_off(world):
    c = world.client(world.staff)
    page = c.get("/kiosk").get_data(as_text=True)
    assert "The kiosk is not running." in page and "<button type=\"submit\" class=\"big\">" not in page
    resp = _press(c, "play")
    assert "The kiosk is not running." in resp.get_data(as_text=True)


def test_family_cannot_use_the_panel(world):
    c = world.client(world.mary_family)
    assert c.get("/kiosk").status_code == 403
    c.get(f"/residents/{world.mary.id}")
    assert c.post("/kiosk/press", {"action": "play"}).status_code == 403


def test_pages_that_follow_the_kiosk_never_reload_themselves(world):
    staff = world.client(world.staff)
    for page, part in (("/kiosk", "/kiosk/part"),
                       (f"/residents/{world.mary.id}/now-playing", f"/residents/{world.mary.id}/now-playing/part")):
        html = staff.get(page).get_data(as_text=True)
        assert 'http-equiv="refresh"' not in html
        assert f'data-live="{part}"' in html and "Check again" in html
        alone = staff.get(part).get_data(as_text=True)
        assert "The kiosk is not running." in alone and "<html" not in alone
    assert world.client(world.mary_family).get(f"/residents/{world.bob.id}/now-playing/part").status_code == 404
    assert world.client(world.mary_family).get("/kiosk/part").status_code == 403
