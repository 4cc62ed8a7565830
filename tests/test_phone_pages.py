"""The family's phone and the staff's phone, page by page, in a real browser: Debian's
Chromium at 390×844 against the real admin on waitress. Every page the app has is opened
as staff and as family and checked by axe-core (no critical or serious violations) and for
48 px touch targets, with a screenshot of each in test-output/screenshots/; then the
journeys of the phone issue: handing an invitation over, ... One server and one browser for
the whole module."""
from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from content import account_links, accounts, ingest, invites, library
from content.care import reactions
from content.photos import set_photo
from tests import phone
from tests.audio import write_song
from tests.test_web_curation import PNG
from tests.test_web_fixtures import FAMILY_PW, STAFF_PW, make_app

pytestmark = pytest.mark.slow

SONGS = (("We'll Meet Again", "Vera Lynn", "1939", 330), ("Moonlight Serenade", "Glenn Miller", "1939", 392),
         ("Que Sera, Sera", "Doris Day", "1956", 440), ("Blue Moon", "The Marcels", "1961", 494),
         ("Rock Around the Clock", "Bill Haley", "1954", 523), ("Dream a Little Dream", "Doris Day", "1950", 587),
         ("In the Mood", "Glenn Miller", "1939", 659))
SKIP_PAGES = ("static", "songs.media", "residents.photo", "kiosk.panel_part", "kiosk.now_playing_part",
              "care.report_chart", "care.report_pdf", "care.report_days_csv", "care.report_reactions_csv",
              "account.setup")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from content import db as dbmod
    work = tmp_path_factory.mktemp("phone")
    data = work / "data"
    (data / "media").mkdir(parents=True)
    db = dbmod.connect(data / "library.db")
    mary = library.add_resident(db, "Mary", birth_year=1938)
    bob = library.add_resident(db, "Bob", birth_year=1931)
    staff = accounts.create_user(db, "sam@home.example", STAFF_PW, "staff", display_name="Sam")
    anne = accounts.create_user(db, "anne@family.example", FAMILY_PW, "family", display_name="Anne",
                                resident_ids=[mary.id])
    songs = {}
    for title, artist, year, freq in SONGS:
        path = write_song(work / f"{title}.wav", freq, 6, tags={"title": title, "artist": artist, "date": year})
        if title == "Rock Around the Clock":   # a download with no tags, named title first
            path = write_song(work / "Rock Around The Clock - Bill Haley.wav", freq, 6)
        songs[title] = ingest.ingest_file(db, data / "media", path, resident_id=mary.id, min_seconds=1.0).song_id
    set_photo(db, data / "media", mary.id, io.BytesIO(PNG))
    play = db.execute("INSERT INTO plays (resident_id, song_id, started_at, ended_at, seconds_heard, ended_how) "
                      "VALUES (?, ?, '2026-05-01T10:00:00Z', '2026-05-01T10:03:00Z', 180, 'finished')",
                      [mary.id, songs["Blue Moon"]]).lastrowid
    db.conn.commit()
    reactions.record(db, mary.id, "smiled", play_id=play, by_role="staff")
    app = make_app(data, SECRET_KEY="phone-pages")
    try:
        with phone.served(app) as (base, browser):
            app.config["PUBLIC_URL"] = base
            account_links.create_invite(db, mary.id, created_by=staff.id, secret=app.config["SECRET_KEY"],
                                        label="Cousin Jo")
            yield SimpleNamespace(base=base, app=app, db=db, browser=browser, mary=mary, bob=bob, staff=staff,
                                  anne=anne, songs=songs, invite_id=invites.open_invites(db, mary.id)[0].id)
    finally:
        db.close()


def _phone(site, who: str, **kw):
    ctx = site.browser.new_context(**phone.PHONE, **kw)
    page = ctx.new_page()
    if who == "staff":
        phone.log_in(page, site.base, "sam@home.example", STAFF_PW)
    elif who == "family":
        phone.log_in(page, site.base, "anne@family.example", FAMILY_PW)
    return ctx, page


@pytest.mark.parametrize("who", ["staff", "family", "nobody"])
def test_every_page_passes_axe_and_has_big_targets(site, who):
    ctx, page = _phone(site, who)
    pages = phone.pages_for(site.app, who, {"rid": site.mary.id, "sid": site.songs["Blue Moon"],
                                            "iid": site.invite_id}, SKIP_PAGES)
    if who == "nobody":   # and the page an invitation link opens
        with site.app.test_request_context():
            token = invites.link_token(site.app.config["SECRET_KEY"], site.db.execute(
                "SELECT salt FROM invites WHERE id = ?", [site.invite_id]).fetchone()[0])
        pages.append(("account-invite", f"/invite/{token}"))
    assert len(pages) >= {"staff": 15, "family": 9, "nobody": 2}[who]
    problems = {}
    for name, address in pages:
        page.goto(site.base + address)
        assert "/login" not in page.url or who == "nobody", address
        problems[address] = phone.page_problems(page, f"page-{who}-{name}")
    ctx.close()
    assert {k: v for k, v in problems.items() if v} == {}


def test_invitation_handover_copy_share_email_text_and_qr(site):
    shared = []
    ctx, page = _phone(site, "staff")
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base)
    # The phone's own share sheet, which headless Chromium on Linux does not have: a stand-in
    # that records what the page asked it to share.
    page.add_init_script("navigator.share = (data) => { window.sharedWith = data; return Promise.resolve(); };")
    page.goto(f"{site.base}/residents/{site.mary.id}")
    page.get_by_role("link", name="Invite a family member").click()
    page.fill("#label", "Anne, her daughter")
    page.click("button:has-text('Make an invitation link')")
    link = page.inner_text("#invite-link")
    assert link.startswith(site.base + "/invite/")
    page.get_by_role("button", name="Copy the link").click()
    page.wait_for_selector("[data-said]:has-text('The link is copied')")
    assert page.evaluate("navigator.clipboard.readText()") == link
    page.get_by_role("button", name="Share…").click()
    shared = page.wait_for_function("window.sharedWith").json_value()
    assert link in shared["text"]
    assert link in page.get_attribute("a:has-text('Send by email')", "href").replace("%3A", ":").replace("%2F", "/")
    assert page.locator("a:has-text('Send by text message')").get_attribute("href").startswith("sms:")
    assert page.locator(".qr svg").count() == 1
    phone.check_page(page, "invite-handover-copy-share-email-text-qr")

    # Back on the list: both links not used yet, and no new one was made by looking again.
    page.get_by_role("link", name="Invitations for Mary's family").click()
    assert page.locator(".invites li").count() == 2
    page.locator(".invites li", has_text="Anne, her daughter").get_by_role("link", name="Show this link").click()
    assert page.inner_text("#invite-link") == link
    page.go_back()
    page.locator(".invites li", has_text="Anne, her daughter").get_by_role("button", name="Cancel this link").click()
    page.wait_for_selector("text=That invitation link is cancelled")
    assert page.locator(".invites li").count() == 1
    phone.check_page(page, "invite-list-open-links-one-cancelled")
    ctx.close()

    # The cancelled link says so to whoever opens it.
    ctx, page = _phone(site, "nobody")
    page.goto(link)
    page.wait_for_selector("text=The care home has cancelled this invitation link.")
    ctx.close()


def test_handover_without_javascript_still_offers_email_text_and_qr(site):
    ctx, page = _phone(site, "staff", java_script_enabled=False)
    page.goto(f"{site.base}/residents/{site.mary.id}/invites/{site.invite_id}")
    assert not page.get_by_role("button", name="Copy the link").is_visible()
    assert page.get_by_role("link", name="Send by email").is_visible()
    assert page.get_by_role("link", name="Send by text message").is_visible()
    phone.check_page(page, "invite-handover-email-text-qr-without-javascript", scripts=False)
    ctx.close()


def test_suggestions_behind_a_button_near_the_top_and_what_staff_asked_for(site):
    ctx, page = _phone(site, "staff")
    page.goto(f"{site.base}/residents/{site.mary.id}")
    button = page.get_by_role("link", name="Songs from Mary's teenage years")
    assert button.bounding_box()["y"] < page.locator("li.song").first.bounding_box()["y"]
    button.click()
    first = page.locator(".suggested li").first
    wanted = first.locator("strong").inner_text().strip("“”")
    first.get_by_role("button", name="Ask the family for it").click()
    page.wait_for_selector("text=the family will see it")
    phone.check_page(page, "suggestions-staff-ask-the-family")
    ctx.close()

    ctx, page = _phone(site, "family")
    page.goto(f"{site.base}/residents/{site.mary.id}")
    looking = page.locator("section.looking")
    assert wanted in looking.inner_text() and "the care staff asked for it" in looking.inner_text()
    assert looking.bounding_box()["y"] < page.locator("li.song").first.bounding_box()["y"]
    phone.check_page(page, "suggestions-family-sees-what-staff-asked-for")
    page.get_by_role("link", name="Songs from Mary's teenage years").click()
    second = page.locator(".suggested li", has=page.get_by_role("button", name="We'll look for it")).first
    mine = second.locator("strong").inner_text().strip("“”")
    second.get_by_role("button", name="We'll look for it").click()
    page.wait_for_selector("text=is on your list of songs to look for")
    assert "You will look for it" in page.locator(".suggested li", has_text=mine).inner_text()
    phone.check_page(page, "suggestions-family-will-look-for-it")
    ctx.close()


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_calm_list_answers_at_the_song_with_undo(site):
    ctx, page = _phone(site, "family")
    page.goto(f"{site.base}/residents/{site.mary.id}")
    assert page.locator("input[name=reason]").count() == 0        # no reason boxes on the list
    phone.check_page(page, "calm-list-compact-rows")
    row = page.locator("li.song", has_text="We'll Meet Again")     # the last row: far down the list
    row.locator("summary").click()
    phone.check_page(page, "calm-list-details-one-tap-away")
    row.get_by_role("button", name="Make it a favourite").click()
    done = page.locator("li.song", has_text="We'll Meet Again").locator(".done")
    done.wait_for()
    assert "is now one of Mary's favourites" in done.inner_text()
    assert done.get_attribute("role") == "status"
    assert _in_view(page, done), "the confirmation is off-screen"
    assert page.evaluate("document.activeElement.classList.contains('done')"), "focus did not move to it"
    assert "★ A favourite" in page.locator("li.song", has_text="We'll Meet Again").inner_text()
    phone.check_page(page, "answer-at-song-favourite-in-words-with-undo")
    done.get_by_role("button", name="Undo").click()
    again = page.locator("li.song", has_text="We'll Meet Again")
    again.locator(".done:has-text('no longer a favourite')").wait_for()
    assert "★ A favourite" not in again.inner_text()

    # Never play: asked first, with the reason, then said at the song with an undo.
    row = page.locator("li.song", has_text="Moonlight Serenade")
    row.locator("summary").click()
    row.get_by_role("link", name="Never play…").click()
    page.wait_for_selector("h1:has-text('Never play “Moonlight Serenade” for Mary?')")
    phone.check_page(page, "calm-list-never-play-asks-the-reason-first")
    page.fill("#reason", "Too sad for her")
    page.get_by_role("button", name="Yes, never play it").click()
    done = page.locator("li.song", has_text="Moonlight Serenade").locator(".done")
    done.wait_for()
    assert "will never play for Mary" in done.inner_text() and _in_view(page, done)
    assert "Never plays: Too sad for her" in page.locator("li.song", has_text="Moonlight Serenade").inner_text()
    phone.check_page(page, "answer-at-song-never-play-with-undo")
    done.get_by_role("button", name="Undo: let it play again").click()
    page.locator("li.song", has_text="Moonlight Serenade").locator(".done:has-text('can play for Mary again')").wait_for()
    assert site.db["resident_songs"].get((site.mary.id, site.songs["Moonlight Serenade"]))["never_play"] == 0
    ctx.close()


def test_a_song_staff_flagged_says_so_to_the_family(site):
    sid = site.songs["In the Mood"]
    ctx, page = _phone(site, "staff")
    page.goto(f"{site.base}/residents/{site.mary.id}/songs/{sid}/never-play")
    page.fill("#reason", "Agitated her twice")
    page.get_by_role("button", name="Yes, never play it").click()
    page.wait_for_selector("text=will never play for Mary")
    ctx.close()
    ctx, page = _phone(site, "family")
    page.goto(f"{site.base}/residents/{site.mary.id}")
    row = page.locator("li.song", has_text="In the Mood")
    assert "The care staff decided this" in row.inner_text()
    row.locator("summary").click()
    assert row.get_by_role("button").count() == 0
    phone.check_page(page, "calm-list-staff-flag-said-to-the-family")
    ctx.close()
    ctx, page = _phone(site, "staff")
    page.goto(f"{site.base}/residents/{site.mary.id}")
    row = page.locator("li.song", has_text="In the Mood")
    row.locator("summary").click()
    row.get_by_role("button", name="Let it play again").click()
    page.wait_for_selector("text=can play for Mary again")
    ctx.close()


def test_plain_words_a_title_first_file_name_the_year_s_source_and_the_year_field(site):
    ctx, page = _phone(site, "family")
    page.goto(f"{site.base}/residents/{site.mary.id}")
    row = page.locator("li.song", has=page.get_by_role("link", name="Rock Around The Clock", exact=True))
    assert "Bill Haley · 1954" in row.inner_text()           # not the song "Bill Haley" by "Rock Around The Clock"
    row.locator("summary").click()
    assert "Came out in 1954: from our list of songs (we are" in row.inner_text()
    row.scroll_into_view_if_needed()
    phone.check_page(page, "plain-words-title-from-the-file-name-and-where-the-year-came-from")
    row.get_by_role("link", name="Change title, year or note").click()
    hint = page.locator("#year-hint")
    assert hint.inner_text() == "Four digits, like 1956." and page.get_attribute("#year", "aria-describedby") == "year-hint"
    phone.check_page(page, "plain-words-the-year-field-explains-itself")
    ctx.close()


def test_a_password_link_is_handed_over_and_the_login_page_explains_the_way_back(site):
    jo = accounts.create_user(site.db, "jo@family.example", FAMILY_PW, "family", display_name="Jo",
                              resident_ids=[site.mary.id])
    ctx, page = _phone(site, "staff")
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base)
    page.goto(f"{site.base}/accounts")
    page.locator("li", has_text="jo@family.example").get_by_role("button", name="Make a password link").click()
    link = page.input_value("#reset-link")
    assert link.startswith(site.base + "/reset/")
    page.get_by_role("button", name="Copy the link").click()
    page.wait_for_selector("[data-said]:has-text('The link is copied')")
    assert page.evaluate("navigator.clipboard.readText()") == link
    mailto = page.get_attribute("a:has-text('Send by email')", "href")
    assert mailto.startswith(f"mailto:{jo.email}?") and page.locator(".qr svg").count() == 1
    phone.check_page(page, "password-link-handover-copy-email-text-qr")
    ctx.close()
    ctx, page = _phone(site, "nobody")
    page.goto(f"{site.base}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_selector("h1:has-text('Forgot your password?')")
    assert "new password link" in page.inner_text("main")
    phone.check_page(page, "password-forgotten-the-way-back-explained")
    page.goto(link)
    page.wait_for_selector("text=Choose a new password")
    ctx.close()


def _save_meets_the_login_page(page) -> None:
    """Save, after the session ended: the login page comes first; log in there."""
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/login**")
    page.fill("#email", "anne@family.example")
    page.fill("#password", FAMILY_PW)
    page.click("button:has-text('Log in')")


def test_one_form_and_nothing_typed_is_lost_through_a_login(site):
    sid = site.songs["Que Sera, Sera"]
    ctx, page = _phone(site, "family")
    page.goto(f"{site.base}/residents/{site.mary.id}/songs/{sid}")
    page.fill("#year", "nineteen fifty-six")
    page.fill("#note", "Mum sang it while ironing")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=is not a year we can read. Please write it as four digits, like 1956.")
    assert page.input_value("#note") == "Mum sang it while ironing"   # nothing lost
    phone.check_page(page, "one-save-year-in-words-explained-nothing-lost")
    page.fill("#year", "1955")
    # The session ends while she types (logged out on another phone).
    accounts.end_sessions(site.db, site.anne.id)
    _save_meets_the_login_page(page)
    page.wait_for_selector("[data-saved]:has-text('Saved the year and the note.')")
    entry = site.db["resident_songs"].get((site.mary.id, sid))
    assert entry["note"] == "Mum sang it while ironing" and entry["year"] == 1955
    phone.check_page(page, "one-save-typed-words-saved-after-the-login")
    ctx.close()


def test_without_javascript_the_words_wait_in_the_form_after_the_login(site):
    sid = site.songs["Dream a Little Dream"]
    ctx, page = _phone(site, "family", java_script_enabled=False)
    page.goto(f"{site.base}/residents/{site.mary.id}/songs/{sid}")
    page.fill("#note", "Grandad's favourite")
    accounts.end_sessions(site.db, site.anne.id)
    _save_meets_the_login_page(page)
    page.wait_for_selector("text=You were logged out before this was saved.")
    assert page.input_value("#note") == "Grandad's favourite"
    phone.check_page(page, "one-save-typed-words-kept-through-login-without-javascript", scripts=False)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=Saved the note.")
    assert site.db["resident_songs"].get((site.mary.id, sid))["note"] == "Grandad's favourite"
    ctx.close()


def test_settings_photo_and_year_in_one_form(site):
    ctx, page = _phone(site, "family")
    page.goto(f"{site.base}/residents/{site.mary.id}/settings")
    before = site.db["residents"].get(site.mary.id)["photo"]
    page.set_input_files("#photo", {"name": "mum.png", "mimeType": "image/png", "buffer": PNG})
    page.fill("#birth_year", "1938")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("[data-saved]:has-text('Saved the photo.')")
    assert site.db["residents"].get(site.mary.id)["photo"] == before or before is None  # same picture, same name
    page.set_input_files("#photo", {"name": "mum.png", "mimeType": "image/png", "buffer": PNG})
    page.fill("#birth_year", "nineteen thirty-eight")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=Nothing was saved, and the photo needs choosing again.")
    assert page.input_value("#birth_year") == "nineteen thirty-eight"
    phone.check_page(page, "one-save-settings-photo-and-year-in-one-form")
    ctx.close()


def test_the_chosen_detective_status_stands_out(site):
    ctx, page = _phone(site, "family")
    page.goto(f"{site.base}/residents/{site.mary.id}/songs/{site.songs['Blue Moon']}")
    colours = page.evaluate("""() => [...document.querySelectorAll('.detective-set button')]
        .map(b => [b.getAttribute('aria-pressed'), getComputedStyle(b).backgroundColor])""")
    chosen = {c for pressed, c in colours if pressed == "true"}
    others = {c for pressed, c in colours if pressed == "false"}
    assert len(chosen) == 1 and chosen.isdisjoint(others), colours
    ctx.close()
