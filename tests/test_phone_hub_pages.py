"""A hub's pages on a phone, in a real browser: Debian's Chromium at 390×844 against the
real admin in hub mode on waitress. Every page a hub has (care homes, music boxes, the
resident pages as a hub shows them) is opened as the group's staff, as family and as a
visitor, and checked by axe-core (no critical or serious violations) and
for 48 px touch targets, with a screenshot of each in test-output/screenshots/. The box
page and the homes page follow the boxes in place (no meta refresh, which axe-core calls
critical and which can swallow a tap), and a panel press is sent without leaving the page.
One server and one browser for the whole module."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from content import accounts, ingest, library
from content.hub import boxes, homes
from tests import phone
from tests.audio import write_song
from tests.test_web_fixtures import FAMILY_PW, STAFF_PW, make_app

pytestmark = pytest.mark.slow

SKIP_PAGES = ("static", "songs.media", "residents.photo", "kiosk.panel_part", "kiosk.now_playing_part",
              "care.report_chart", "care.report_pdf", "care.report_days_csv", "care.report_reactions_csv",
              "account.setup", "hub.home_part", "hub.box_part")
ACCOUNTS = {"staff": "group@care.example", "home-staff": "rose@care.example", "family": "anne@family.example"}


def _playing(title: str, resident_id: int) -> dict:
    """What a box reports through its channel while it plays."""
    return {"state": "playing", "resident_id": resident_id, "position": 12, "volume": 40,
            "song": {"title": title, "artist": "Vera Lynn", "year": 1939}}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    from content import db as dbmod
    work = tmp_path_factory.mktemp("hub-phone")
    data = work / "data"
    (data / "media").mkdir(parents=True)
    db = dbmod.connect(data / "library.db")
    rose, oak = homes.add_home(db, "Rose House"), homes.add_home(db, "Oak Lodge")
    mary = library.add_resident(db, "Mary", birth_year=1938)
    homes.set_resident_home(db, mary.id, rose.id)
    homes.set_resident_home(db, library.add_resident(db, "Olive", birth_year=1935).id, oak.id)
    accounts.create_user(db, ACCOUNTS["staff"], STAFF_PW, "staff", display_name="Gita")
    rose_staff = accounts.create_user(db, ACCOUNTS["home-staff"], STAFF_PW, "staff", display_name="Sam")
    homes.add_staff_to_home(db, rose_staff.id, rose.id)
    accounts.create_user(db, ACCOUNTS["family"], FAMILY_PW, "family", display_name="Anne", resident_ids=[mary.id])
    path = write_song(work / "song.wav", 440, 3, tags={"title": "We'll Meet Again", "artist": "Vera Lynn"})
    sid = ingest.ingest_file(db, data / "media", path, resident_id=mary.id, min_seconds=1.0).song_id
    lounge = boxes.add_box(db, rose.id, "Lounge")
    boxes.pair(db, boxes.new_pairing_code(db, lounge.id))
    boxes.assign(db, lounge.id, [mary.id])
    boxes.report_playing(db, lounge.id, _playing("We'll Meet Again", mary.id))
    boxes.add_box(db, rose.id, "Quiet room")          # not paired yet
    app = make_app(data, HUB=True, SECRET_KEY="hub-phone")
    try:
        with phone.served(app) as (base, browser):
            app.config["PUBLIC_URL"] = base
            yield SimpleNamespace(base=base, app=app, db=db, browser=browser, mary=mary, rose=rose, lounge=lounge,
                                  values={"rid": mary.id, "sid": sid, "bid": lounge.id, "hid": rose.id})
    finally:
        app.extensions["evergreen.watch"].close()
        db.close()


def _phone(hub, who: str, **kw):
    ctx = hub.browser.new_context(**phone.PHONE, **kw)
    page = ctx.new_page()
    if who in ACCOUNTS:
        phone.log_in(page, hub.base, ACCOUNTS[who], FAMILY_PW if who == "family" else STAFF_PW)
    return ctx, page


@pytest.mark.parametrize("who", ["staff", "family", "nobody"])
def test_every_hub_page_passes_axe_and_has_big_targets(hub, who):
    ctx, page = _phone(hub, who)
    pages = phone.pages_for(hub.app, who, hub.values, SKIP_PAGES)
    if who == "staff":
        assert {"hub-homes-page", "hub-box-page"} <= {name for name, _ in pages}
    problems = {}
    for name, address in pages:
        page.goto(hub.base + address)
        assert "/login" not in page.url or who == "nobody", address
        assert page.locator("meta[http-equiv=refresh]").count() == 0, address
        problems[address] = phone.page_problems(page, f"page-hub-{who}-{name}")
    # Pages that answer a form: the pairing code a new box gets.
    if who == "staff":
        page.goto(f"{hub.base}/hub/")
        page.fill(f"#box-{hub.rose.id}", "Garden room")
        page.locator("section.home", has_text="Rose House").get_by_role("button", name="Add").click()
        page.wait_for_selector("text=sudo evergreen join")
        problems["pairing code"] = phone.page_problems(page, f"page-hub-{who}-pairing-code")
    ctx.close()
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_box_page_follows_the_box_and_presses_without_reloading(hub):
    ctx, page = _phone(hub, "home-staff")
    page.goto(f"{hub.base}/hub/boxes/{hub.lounge.id}")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert not page.get_by_role("link", name="Check again").is_visible()     # the script keeps it current
    page.wait_for_selector(".status .now:has-text(\"We'll Meet Again\")")
    page.evaluate("window.sameVisit = true")
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_selector("[data-live-said]:has-text('Sent: Play.')")
    assert [c["action"] for c in boxes.pending_commands(hub.db, hub.lounge.id)][-1] == "play"
    # The box reports a new song through its channel: it shows up in place, and is read out.
    boxes.report_playing(hub.db, hub.lounge.id, _playing("White Cliffs of Dover", hub.mary.id))
    page.wait_for_selector(".status .now:has-text('White Cliffs of Dover')", timeout=15_000)
    assert page.evaluate("window.sameVisit") is True, "the page reloaded"
    assert "White Cliffs of Dover" in page.inner_text("[data-live-heard]")
    phone.check_page(page, "in-place-hub-box-page")

    # The homes page follows its boxes in place too (checked when the tab comes back to view,
    # as well as every 15 seconds).
    page.goto(f"{hub.base}/hub/")
    page.evaluate("window.sameVisit = true")
    lounge = page.locator("a.card", has_text="Lounge")
    assert "White Cliffs of Dover" in lounge.inner_text()
    boxes.report_playing(hub.db, hub.lounge.id, _playing("Lili Marleen", hub.mary.id))
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_selector("a.card:has-text('Lili Marleen')")
    assert page.evaluate("window.sameVisit") is True, "the page reloaded"
    phone.check_page(page, "in-place-hub-homes-page")
    ctx.close()


def test_without_javascript_the_box_page_is_plain_with_a_link_to_check_again(hub):
    ctx, page = _phone(hub, "home-staff", java_script_enabled=False)
    for path, shot in ((f"/hub/boxes/{hub.lounge.id}", "in-place-hub-box-page-no-javascript"),
                       ("/hub/", "in-place-hub-homes-page-no-javascript")):
        page.goto(hub.base + path)
        assert page.locator("meta[http-equiv=refresh]").count() == 0
        page.get_by_role("link", name="Check again").first.click()
        page.wait_for_url(hub.base + path)
        phone.check_page(page, shot, scripts=False)
    page.goto(f"{hub.base}/hub/boxes/{hub.lounge.id}")
    page.get_by_role("button", name="Next song").click()
    page.wait_for_selector("text=Sent: Next song.")
    assert [c["action"] for c in boxes.pending_commands(hub.db, hub.lounge.id)][-1] == "next"
    ctx.close()
