"""Now playing and the staff panel follow the kiosk in place, on a phone: the part that
shows the song is fetched again every few seconds and put in place, with no reload (no
meta refresh, which axe-core calls critical and which can swallow a tap), and a panel
press is sent without leaving the page. Without JavaScript each is a plain page with a
link to check again. One real kiosk (silent audio), one server and one browser for the
whole module."""
from __future__ import annotations


import pytest

from content import accounts, control, ingest, library
from tests import phone
from tests.kiosk_process import kiosk_status, poll, run_kiosk
from tests.audio import write_song
from tests.test_web_fixtures import FAMILY_PW, STAFF_PW, make_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from content import db as dbmod
    work = tmp_path_factory.mktemp("live")
    data = work / "data"
    data.mkdir()
    db = dbmod.connect(data / "library.db")
    mary = library.add_resident(db, "Mary", birth_year=1938)
    accounts.create_user(db, "sam@home.example", STAFF_PW, "staff", display_name="Sam")
    accounts.create_user(db, "anne@family.example", FAMILY_PW, "family", resident_ids=[mary.id])
    (data / "media").mkdir(exist_ok=True)
    for title, freq in (("First song", 330), ("Second song", 440), ("Third song", 550)):
        path = write_song(work / f"{title}.wav", freq, 30, tags={"title": title, "artist": "Band"})
        assert ingest.ingest_file(db, data / "media", path, resident_id=mary.id, min_seconds=1.0).status == "added"
    db.close()
    app = make_app(data, SECRET_KEY="phone-live")
    with phone.served(app) as (base, browser), run_kiosk(data, "Mary", work) as sock:
        yield {"base": base, "sock": sock, "browser": browser, "mary": mary}


def _playing(sock) -> dict:
    return poll(lambda: (s := kiosk_status(sock)) and s["song"] and s, "music to play")


def test_panel_presses_and_follows_the_kiosk_without_reloading(site):
    ctx = site["browser"].new_context(**phone.PHONE)
    page = ctx.new_page()
    phone.log_in(page, site["base"], "sam@home.example", STAFF_PW)
    page.goto(site["base"] + "/kiosk")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert not page.get_by_role("link", name="Check again").is_visible()   # the script keeps it current
    page.evaluate("window.sameVisit = true")
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_selector("[data-live-said]:has-text('Sent: Play.')")
    title = _playing(site["sock"])["song"]["title"]
    page.wait_for_selector(f".status .now:has-text('{title}')")
    phone.check_page(page, "in-place-kiosk-panel-presses-and-follows")

    # A change made elsewhere (the box's own button) shows up in place.
    control.press(site["sock"], "next")
    after = poll(lambda: (s := kiosk_status(site["sock"])) and s["song"]
                       and s["song"]["title"] != title and s, "the next song")["song"]["title"]
    page.wait_for_selector(f".status .now:has-text('{after}')", timeout=15_000)
    assert page.evaluate("window.sameVisit") is True, "the page reloaded"
    # A screen reader hears the new song (from a live region that stays), not the clock.
    assert after in page.inner_text("[data-live-heard]")
    control.press(site["sock"], "stop")
    ctx.close()


def test_now_playing_follows_the_kiosk_for_the_family(site):
    ctx = site["browser"].new_context(**phone.PHONE)
    page = ctx.new_page()
    phone.log_in(page, site["base"], "anne@family.example", FAMILY_PW)
    control.press(site["sock"], "play")
    first = _playing(site["sock"])["song"]["title"]
    page.goto(f"{site['base']}/residents/{site['mary'].id}/now-playing")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    page.wait_for_selector(f".status .now:has-text('{first}')")
    page.evaluate("window.sameVisit = true")
    control.press(site["sock"], "next")
    after = poll(lambda: (s := kiosk_status(site["sock"])) and s["song"]
                       and s["song"]["title"] != first and s, "the next song")["song"]["title"]
    page.wait_for_selector(f".status .now:has-text('{after}')", timeout=15_000)
    assert page.evaluate("window.sameVisit") is True, "the page reloaded"
    phone.check_page(page, "in-place-now-playing-family")
    control.press(site["sock"], "stop")
    ctx.close()


def test_without_javascript_a_plain_page_and_a_link_to_check_again(site):
    ctx = site["browser"].new_context(java_script_enabled=False, **phone.PHONE)
    page = ctx.new_page()
    phone.log_in(page, site["base"], "sam@home.example", STAFF_PW)
    for path, shot in (("/kiosk", "in-place-kiosk-panel-without-javascript-check-again"),
                       (f"/residents/{site['mary'].id}/now-playing", "in-place-now-playing-without-javascript-check-again")):
        page.goto(site["base"] + path)
        assert page.locator("meta[http-equiv=refresh]").count() == 0
        page.get_by_role("link", name="Check again").click()
        page.wait_for_url(site["base"] + path)
        phone.check_page(page, shot, scripts=False)
    # The panel's buttons still work: a plain form post and back to the page.
    page.goto(site["base"] + "/kiosk")
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_selector("text=Sent: Play.")
    _playing(site["sock"])
    control.press(site["sock"], "stop")
    ctx.close()
