"""The hub's pages for staff: homes, boxes, pairing codes, residents on a box, revoking,
the panel's buttons through the box's channel; staff see only their own homes; the hub's
HTTPS settings and links from its public address."""
from __future__ import annotations

import re

import pytest

from content import accounts, library
from content.hub import boxes, homes
from tests.test_web_fixtures import STAFF_PW, Browser, make_app


@pytest.fixture
def hub(lib):
    app = make_app(lib.data, HUB=True, PUBLIC_URL="https://music.example.org")
    rose, oak = homes.add_home(lib.db, "Rose House"), homes.add_home(lib.db, "Oak Lodge")
    mary = library.add_resident(lib.db, "Mary", birth_year=1938)
    olive = library.add_resident(lib.db, "Olive", birth_year=1935)
    homes.set_resident_home(lib.db, mary.id, rose.id)
    homes.set_resident_home(lib.db, olive.id, oak.id)
    group = accounts.create_user(lib.db, "group@care.example", STAFF_PW, "staff")
    rose_staff = accounts.create_user(lib.db, "rose@care.example", STAFF_PW, "staff")
    homes.add_staff_to_home(lib.db, rose_staff.id, rose.id)
    return dict(app=app, db=lib.db, rose=rose, oak=oak, mary=mary, olive=olive, group=group, rose_staff=rose_staff)


class HttpsBrowser(Browser):
    """The browser of someone on the hub's public address (Caddy in front, HTTPS)."""

    def get(self, url: str, **kw):
        kw.setdefault("base_url", "https://music.example.org")
        return super().get(url, **kw)

    def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kw):
        kw.setdefault("base_url", "https://music.example.org")
        # Over HTTPS the CSRF check also wants the page it came from, as browsers send it.
        kw["headers"] = {"Referer": "https://music.example.org/", **kw.get("headers", {})}
        return super().post(url, data, csrf=csrf, **kw)


def _client(hub, user=None) -> Browser:
    c = HttpsBrowser(hub["app"].test_client())
    if user is not None:
        c.login(user.email, STAFF_PW)
    return c


def test_staff_of_one_home_see_only_that_home(hub):
    c = _client(hub, hub["rose_staff"])
    home = c.get("/").get_data(as_text=True)
    assert "Mary" in home and "Olive" not in home
    assert c.get(f"/residents/{hub['olive'].id}").status_code == 404
    box = boxes.add_box(hub["db"], hub["oak"].id, "Oak lounge")
    assert c.get(f"/hub/boxes/{box.id}").status_code == 404
    page = c.get("/hub/").get_data(as_text=True)
    assert "Rose House" in page and "Oak Lodge" not in page and "Add a care home" not in page
    assert c.post("/hub/homes", {"name": "Elm Court"}).status_code == 403
    # The group's own staff see every home.
    g = _client(hub, hub["group"])
    assert "Olive" in g.get("/").get_data(as_text=True)


def test_adding_a_box_gives_a_one_time_code_and_the_box_page_runs_it(hub):
    c = _client(hub, hub["rose_staff"])
    page = c.post(f"/hub/homes/{hub['rose'].id}/boxes", {"name": "Lounge"}).get_data(as_text=True)
    code = re.search(r"sudo evergreen join https://music\.example\.org ([A-Z0-9]{4}-[A-Z0-9]{4})", page).group(1)
    box = boxes.list_boxes(hub["db"])[0]
    resp = c.post(f"/hub/boxes/{box.id}/residents", {"resident": [str(hub["mary"].id), str(hub["olive"].id)]})
    assert [r.name for r in boxes.residents_of(hub["db"], box.id)] == []   # Olive is another home's: refused whole
    c.post(f"/hub/boxes/{box.id}/residents", {"resident": [str(hub["mary"].id)]})
    assert [r.name for r in boxes.residents_of(hub["db"], box.id)] == ["Mary"]
    box_id, credential = boxes.pair(hub["db"], code.lower().replace("-", " "))
    assert box_id == box.id and boxes.authenticate(hub["db"], credential) == box.id
    assert hub["db"].execute("SELECT credential_hash FROM boxes").fetchone()[0] != credential.split(".")[1]
    c.post(f"/hub/boxes/{box.id}/press", {"action": "next"})
    assert [x["action"] for x in boxes.pending_commands(hub["db"], box.id)] == ["next"]
    c.post(f"/hub/boxes/{box.id}/revoke")
    assert boxes.authenticate(hub["db"], credential) is None
    assert resp.status_code == 302


def test_pairing_codes_expire_work_once_and_guesses_are_slowed(hub):
    box = boxes.add_box(hub["db"], hub["rose"].id, "Lounge")
    import datetime as dt
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=boxes.CODE_MINUTES + 1)
    expired = boxes.new_pairing_code(hub["db"], box.id, now=old)
    with pytest.raises(boxes.PairingRefused, match="expired"):
        boxes.pair(hub["db"], expired, remote="10.0.0.9")
    code = boxes.new_pairing_code(hub["db"], box.id)
    boxes.pair(hub["db"], code, remote="10.0.0.9")
    with pytest.raises(boxes.PairingRefused, match="already been used"):
        boxes.pair(hub["db"], code, remote="10.0.0.9")
    for _ in range(25):
        try:
            boxes.pair(hub["db"], "AAAA-AAAA", remote="10.0.0.7")
        except boxes.PairingRefused as exc:
            last = str(exc)
    assert "Too many wrong codes" in last


def test_under_https_cookies_are_secure_hsts_is_sent_hosts_are_checked_and_links_use_the_public_address(hub):
    c = _client(hub, hub["group"])
    resp = c.get("/")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    login = _client(hub)
    login.get("/login")
    r = login.post("/login", {"email": hub["group"].email, "password": STAFF_PW})
    assert "Secure" in r.headers["Set-Cookie"]
    other = hub["app"].test_client()
    assert other.get("/login", headers={"Host": "evil.example"}).status_code == 400
    made = c.post(f"/residents/{hub['mary'].id}/invites", headers={"X-Forwarded-Host": "evil.example"})
    assert made.status_code == 302
    page = c.get(made.headers["Location"], headers={"X-Forwarded-Host": "evil.example"}).get_data(as_text=True)
    assert "https://music.example.org/invite/" in page and "evil.example" not in page


@pytest.fixture
def people(hub):
    """Accounts across both homes: Oak's staff, staff of both homes, and families of Rose,
    of Oak, of both, and of no one yet."""
    db = hub["db"]
    oak_staff = accounts.create_user(db, "oak@care.example", STAFF_PW, "staff")
    homes.add_staff_to_home(db, oak_staff.id, hub["oak"].id)
    both_staff = accounts.create_user(db, "both@care.example", STAFF_PW, "staff")
    homes.add_staff_to_home(db, both_staff.id, hub["rose"].id)
    homes.add_staff_to_home(db, both_staff.id, hub["oak"].id)
    fam = dict(
        rose=accounts.create_user(db, "anne@family.example", STAFF_PW, "family", resident_ids=[hub["mary"].id]),
        oak=accounts.create_user(db, "otto@family.example", STAFF_PW, "family", resident_ids=[hub["olive"].id]),
        both=accounts.create_user(db, "bea@family.example", STAFF_PW, "family",
                                  resident_ids=[hub["mary"].id, hub["olive"].id]),
        none=accounts.create_user(db, "nell@family.example", STAFF_PW, "family"))
    return dict(oak_staff=oak_staff, both_staff=both_staff, **{f"{k}_family": v for k, v in fam.items()})


def test_staff_of_one_home_see_and_manage_only_the_accounts_of_that_home(hub, people):
    c = _client(hub, hub["rose_staff"])
    page = c.get("/accounts").get_data(as_text=True)
    assert "rose@care.example" in page and "anne@family.example" in page and "Mary" in page
    for hidden in ("oak@", "group@", "both@", "otto@", "bea@", "nell@", "Olive"):
        assert hidden not in page, hidden
    # Every account outside Rose House is "not found", and nothing happens to it.
    db = hub["db"]
    outside = [hub["group"], people["oak_staff"], people["both_staff"], people["oak_family"],
               people["both_family"], people["none_family"]]
    for user in outside:
        made = c.post(f"/accounts/{user.id}/reset-link")
        assert made.status_code == 404 and "/reset/" not in made.get_data(as_text=True), user.email
        assert c.post(f"/accounts/{user.id}/disable").status_code == 404, user.email
        assert c.post(f"/accounts/{user.id}/enable").status_code == 404, user.email
        assert c.post(f"/accounts/{user.id}/remove").status_code == 404, user.email
        after = accounts.get_user(db, user.id)
        assert after is not None and not after.disabled and after.password_hash == user.password_hash
    assert db.execute("SELECT COUNT(*) FROM password_resets").fetchone()[0] == 0
    # Within Rose House the page works as before.
    assert "/reset/" in c.post(f"/accounts/{people['rose_family'].id}/reset-link").get_data(as_text=True)
    assert c.post(f"/accounts/{people['rose_family'].id}/disable").status_code == 302
    assert accounts.get_user(db, people["rose_family"].id).disabled


def test_the_groups_staff_see_and_manage_every_account(hub, people):
    g = _client(hub, hub["group"])
    page = g.get("/accounts").get_data(as_text=True)
    for shown in ("rose@", "oak@", "both@", "anne@", "otto@", "bea@", "nell@", "Olive", "Mary"):
        assert shown in page, shown
    assert "/reset/" in g.post(f"/accounts/{people['oak_staff'].id}/reset-link").get_data(as_text=True)
    assert g.post(f"/accounts/{people['oak_family'].id}/remove").status_code == 302
    assert accounts.get_user(hub["db"], people["oak_family"].id) is None
