"""Invitations that reach people: staff see the open ones, show a link again instead of
making another live one, cancel one, and hand it over by email or text-message links that
need no JavaScript, or by QR code; the link is built from the configured public address."""
from __future__ import annotations

import re
from urllib.parse import unquote

from content import account_links, invites
from tests.mailbox import HeldInbox, Inbox, free_port, serving, write_settings
from tests.test_web_fixtures import world  # noqa: F401

LINK = re.compile(r'id="invite-link">(http://evergreen\.test:8080/invite/[^<]+)<')


def _make(staff, world, label: str = ""):
    staff.get(f"/residents/{world.mary.id}/invites")
    made = staff.post(f"/residents/{world.mary.id}/invites", {"label": label})
    assert made.status_code == 302, made.get_data(as_text=True)
    return made.headers["Location"]


def test_a_link_is_shown_again_not_made_again(world, lib):
    staff = world.client(world.staff)
    where = _make(staff, world, "Anne, her daughter")
    first = staff.get(where).get_data(as_text=True)
    link = LINK.search(first).group(1)
    assert "Anne, her daughter" in first and "works once, until" in first
    again = staff.get(where).get_data(as_text=True)
    assert LINK.search(again).group(1) == link
    listing = staff.get(f"/residents/{world.mary.id}/invites").get_data(as_text=True)
    assert listing.count("Show this link") == 1 and "Anne, her daughter" in listing
    assert len(invites.open_invites(lib.db, world.mary.id)) == 1
    # The link shown again is the one that works.
    fam = world.client()
    assert "Songs for Mary" in fam.get(link.removeprefix("http://evergreen.test:8080")).get_data(as_text=True)


def test_handover_without_javascript_email_text_and_qr(world):
    staff = world.client(world.staff)
    page = staff.get(_make(staff, world)).get_data(as_text=True)
    link = LINK.search(page).group(1)
    mailto = re.search(r'href="(mailto:[^"]+)"', page).group(1)
    sms = re.search(r'href="(sms:[^"]+)"', page).group(1)
    assert link in unquote(mailto.replace("&amp;", "&")) and mailto.startswith("mailto:?subject=Songs%20for%20Mary")
    assert link in unquote(sms.replace("&amp;", "&"))
    assert "<svg" in page
    # The copy and share buttons need the script: hidden until it shows them.
    assert re.search(r"<button[^>]*data-copy[^>]*hidden", page) and re.search(r"<button[^>]*data-share[^>]*hidden", page)


def test_cancelling_a_link_stops_it_at_once(world, lib):
    staff = world.client(world.staff)
    where = _make(staff, world, "Wrong number")
    link = LINK.search(staff.get(where).get_data(as_text=True)).group(1)
    iid = int(where.rstrip("/").rsplit("/", 1)[1])
    resp = staff.post(f"/residents/{world.mary.id}/invites/{iid}/cancel", follow_redirects=True)
    assert "cancelled" in resp.get_data(as_text=True)
    assert invites.open_invites(lib.db, world.mary.id) == []
    assert staff.get(where).status_code == 410
    fam = world.client()
    closed = fam.get(link.removeprefix("http://evergreen.test:8080"))
    assert closed.status_code == 410 and "cancelled this invitation" in closed.get_data(as_text=True)
    # Cancelling twice, or another resident's invite, finds nothing.
    assert staff.post(f"/residents/{world.mary.id}/invites/{iid}/cancel").status_code == 404
    account_links.create_invite(lib.db, world.bob.id, secret="x")
    bobs = invites.open_invites(lib.db, world.bob.id)[0].id
    assert staff.post(f"/residents/{world.mary.id}/invites/{bobs}/cancel").status_code == 404
    assert len(invites.open_invites(lib.db, world.bob.id)) == 1


def test_used_and_expired_invites_leave_the_list(world, lib):
    import datetime as dt
    staff = world.client(world.staff)
    link = LINK.search(staff.get(_make(staff, world)).get_data(as_text=True)).group(1)
    path = link.removeprefix("http://evergreen.test:8080")
    fam = world.client()
    fam.get(path)
    fam.post(path, {"email": "cath@family.example", "password": "cath-password-9", "again": "cath-password-9"})
    assert invites.open_invites(lib.db, world.mary.id) == []
    account_links.create_invite(lib.db, world.mary.id, secret="x")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=account_links.INVITE_DAYS, minutes=1)
    assert invites.open_invites(lib.db, world.mary.id, now=later) == []


def test_the_database_alone_does_not_hold_a_working_link(world, lib):
    staff = world.client(world.staff)
    link = LINK.search(staff.get(_make(staff, world)).get_data(as_text=True)).group(1)
    token = link.rsplit("/", 1)[1]
    dump = "\n".join(str(tuple(r)) for r in lib.db.execute("SELECT * FROM invites").fetchall())
    assert token not in dump


def test_family_cannot_make_or_see_invites(world):
    fam = world.client(world.mary_family)
    assert fam.get(f"/residents/{world.mary.id}/invites").status_code == 403
    assert fam.post(f"/residents/{world.mary.id}/invites").status_code == 403


def test_forgot_your_password_explains_the_way_back(world):
    visitor = world.client()
    login = visitor.get("/login").get_data(as_text=True)
    assert 'href="/forgot">Forgot your password?</a>' in login
    page = visitor.get("/forgot").get_data(as_text=True)
    assert "new password link" in page and "works" in page and "once" in page
    assert "Accounts page" in page and "evergreen users reset-link" in page


def test_an_invite_to_an_email_with_an_account_points_to_the_way_back(world, lib):
    token = account_links.create_invite(lib.db, world.bob.id)
    fam = world.client()
    fam.get(f"/invite/{token}")
    resp = fam.post(f"/invite/{token}", {"email": world.mary_family.email, "password": "whatever-pw-9",
                                         "again": "whatever-pw-9"})
    text = resp.get_data(as_text=True)
    assert "already an account for this email" in text and "Forgot your password?" in text


def test_forgot_your_password_emails_a_link_where_email_is_set_up(world, lib, tmp_path):
    from content import site as sitemod
    inbox = Inbox(free_port())
    world.app.config["SITE"] = sitemod.load(write_settings(world.data, inbox, "http://evergreen.test:8080"))
    with serving(inbox):
        visitor = world.client()
        assert "Email me a link" in visitor.get("/forgot").get_data(as_text=True)
        said = visitor.post("/forgot", {"email": world.mary_family.email}).get_data(as_text=True)
        nobody = visitor.post("/forgot", {"email": "nobody@nowhere.example"}).get_data(as_text=True)
        again = visitor.post("/forgot", {"email": world.mary_family.email}).get_data(as_text=True)
        assert world.app.extensions["evergreen.postbox"].idle(30), "the mail was sent in the background"
    for page in (said, nobody, again):   # the same answer, whoever has an account
        assert "If there is an account for" in page and "a link to choose a new password" in page
    assert len(inbox.messages) == 1                      # once per account per quarter of an hour
    (to, content), = inbox.messages
    link = re.search(r"http://evergreen\.test:8080/reset/\S+", content).group(0)
    assert to == [world.mary_family.email]
    assert world.client().get(link.removeprefix("http://evergreen.test:8080")).status_code == 200
    token = link.rsplit("/", 1)[1]
    assert account_links.open_reset(lib.db, token).email == world.mary_family.email


def test_forgot_your_password_answers_before_the_mail_server_has_the_message(world, lib, monkeypatch):
    """How long the answer takes must not say whether the account exists: the page never
    waits on the mail server, and the mail still arrives."""
    import threading

    from content import mail
    from content import site as sitemod
    monkeypatch.setattr(mail, "TIMEOUT_S", 120)        # a slow mail server, not a broken one
    inbox = HeldInbox(free_port())
    world.app.config["SITE"] = sitemod.load(write_settings(world.data, inbox, "http://evergreen.test:8080"))
    with serving(inbox):
        visitor = world.client()
        visitor.get("/forgot")
        answered: list[str] = []
        asking = threading.Thread(target=lambda: answered.append(
            visitor.post("/forgot", {"email": world.mary_family.email}).get_data(as_text=True)))
        try:
            asking.start()
            assert inbox.holding.wait(30), "the mail server was asked to take the message"
            asking.join(30)
            assert answered and "If there is an account for" in answered[0]    # while the server still holds it
            assert inbox.messages == []
        finally:
            inbox.release.set()
            asking.join(150)
        assert world.app.extensions["evergreen.postbox"].idle(30)
    (to, content), = inbox.messages
    assert to == [world.mary_family.email] and "http://evergreen.test:8080/reset/" in content


def test_without_email_the_forgot_page_has_no_form(world):
    page = world.client().get("/forgot").get_data(as_text=True)
    assert "Email me a link" not in page and "Ask the care home" in page


def test_a_password_link_is_handed_over_like_an_invitation(world):
    staff = world.client(world.staff)
    staff.get("/accounts")
    page = staff.post(f"/accounts/{world.mary_family.id}/reset-link").get_data(as_text=True)
    link = re.search(r'id="reset-link" readonly value="(http://evergreen\.test:8080/reset/[^"]+)"', page).group(1)
    mailto = re.search(r'href="(mailto:[^"]+)"', page).group(1)
    sms = re.search(r'href="(sms:[^"]+)"', page).group(1)
    assert mailto.startswith(f"mailto:{world.mary_family.email}?subject=") and link in unquote(mailto.replace("&amp;", "&"))
    assert link in unquote(sms.replace("&amp;", "&"))
    assert "<svg" in page and re.search(r"<button[^>]*data-copy[^>]*hidden", page)
