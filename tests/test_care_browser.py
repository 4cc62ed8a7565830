"""The care loop on a phone, in a real browser (Debian's Chromium, headless, phone-sized)
against the real admin served by waitress: logging a reaction takes at most two taps from
the resident's page, a hard one offers the red flag at the next tap, and the care report
reads on a phone. Screenshots (and the report PDF's first page) go to test-output/."""
from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from content import accounts, library
from content.care import document, reactions, report, seed
from tests.carekit import add_play, add_song
from tests.test_web_browser import PHONE, ROOT, SHOTS, _small_targets, browser, server  # noqa: F401
from tests.test_web_fixtures import STAFF_PW

pytestmark = pytest.mark.slow
OUT = ROOT / "test-output"


class Taps:
    """Counts the taps a person makes, from the page they start on."""

    def __init__(self, page) -> None:
        self.page, self.count = page, 0

    def tap(self, locator) -> None:
        locator.tap()
        self.count += 1
        self.page.wait_for_load_state()


def log_in(page, base: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", "sam@home.example")
    page.fill("#password", STAFF_PW)
    page.click("button:has-text('Log in')")
    page.wait_for_selector("h1")


def test_a_reaction_takes_at_most_two_taps_from_the_residents_page(server, browser, lib):  # noqa: F811
    db = lib.db
    accounts.create_user(db, "sam@home.example", STAFF_PW, "staff", display_name="Sam")
    mary = library.add_resident(db, "Mary", birth_year=1938)
    daisy = add_song(db, mary.id, "Daisy Bell", "Harry Dacre", 1892)
    moon = add_song(db, mary.id, "Moon River", "Andy Williams", 1961)
    now = dt.datetime.now(dt.timezone.utc)
    add_play(db, mary.id, moon, now - dt.timedelta(minutes=6))
    add_play(db, mary.id, daisy, now - dt.timedelta(minutes=1), how=None)     # playing now
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    log_in(page, server)
    resident_page = f"{server}/residents/{mary.id}"

    # The song playing now: one tap.
    page.goto(resident_page)
    page.screenshot(path=str(SHOTS / "care-reactions.png"), full_page=True)
    assert _small_targets(page) == []
    taps = Taps(page)
    taps.tap(page.get_by_role("button", name="Smiled"))
    page.wait_for_selector("text=Logged: Mary smiled during “Daisy Bell”.")
    assert taps.count == 1
    assert [(r.kind, r.song_id) for r in reactions.recent(db, mary.id)] == [("smiled", daisy)]

    # An earlier song: a tap to choose it, a tap to log.
    page.goto(resident_page)
    taps = Taps(page)
    taps.tap(page.locator("ul.earlier").get_by_role("link", name="Moon River"))
    taps.tap(page.get_by_role("button", name="Sang along"))
    page.wait_for_selector("text=Logged: Mary sang along during “Moon River”.")
    assert taps.count == 2
    assert reactions.recent(db, mary.id)[0].song_id == moon

    # A hard moment: the red flag is the next tap, and the song never plays again.
    page.goto(resident_page)
    taps = Taps(page)
    taps.tap(page.get_by_role("button", name="Upset"))
    page.wait_for_selector("text=Logged: Mary was upset")
    page.screenshot(path=str(SHOTS / "care-red-flag-offer.png"), full_page=True)
    assert _small_targets(page) == []
    taps.tap(page.get_by_role("button", name="Stop it and never play it again"))
    page.wait_for_selector("text=“Daisy Bell” will never play for Mary.")
    assert taps.count == 2
    assert [s.title for s in library.resident_songs(db, mary.id) if s.never_play] == ["Daisy Bell"]
    assert blocked == []
    ctx.close()


def test_the_care_report_reads_on_a_phone_without_javascript(server, browser, lib):  # noqa: F811
    db = lib.db
    accounts.create_user(db, "sam@home.example", STAFF_PW, "staff", display_name="Sam")
    mary = library.add_resident(db, "Mary", birth_year=1938)
    for title, artist, year in (("Daisy Bell", "Harry Dacre", 1892), ("We'll Meet Again", "Vera Lynn", 1939),
                                ("Moonlight Serenade", "Glenn Miller", 1939), ("Que Sera, Sera", "Doris Day", 1956),
                                ("Moon River", "Andy Williams", 1961)):
        add_song(db, mary.id, title, artist, year)
    end = dt.date.today() - dt.timedelta(days=1)
    seed.seed_month(db, mary.id, end=end)
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    page = ctx.new_page()
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    log_in(page, server)
    start = end - dt.timedelta(days=29)
    page.goto(f"{server}/residents/{mary.id}/report?from={start.isoformat()}&to={end.isoformat()}")
    page.wait_for_selector("h1:has-text('Music care report: Mary')")
    # Every chart arrived and drew (an image that failed to load has no natural width).
    widths = page.eval_on_selector_all("img.chart", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
    assert len(widths) == 3 and all(w and w > 100 for w in widths)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390    # nothing wider than the phone
    assert _small_targets(page) == []
    page.screenshot(path=str(SHOTS / "care-report.png"), full_page=True)
    assert blocked == []
    ctx.close()
    # And the PDF's first page, as a picture beside it.
    r = report.build(db, mary.id, start, end, staff_view=True)
    pdf = OUT / "care-report.pdf"
    pdf.write_bytes(document.pdf(r))
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(OUT / "care-report-pdf-page1")], check=True, timeout=60)
    assert (OUT / "care-report-pdf-page1.png").stat().st_size > 10_000
