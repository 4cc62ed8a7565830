"""Who may do what: walked from the app's own url_map, so a new route cannot escape.

Every view must declare its rule (public, user, staff, resident, song_file). Then, for
every route and method: anonymous visitors are sent to log in; a family member of Mary
gets 403 or 404 on Bob's pages, uploads, files and actions, and changes nothing; staff
reach every page; and no POST is accepted without its CSRF token.
"""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest

from content import account_links, invites, library, wishes
from content.care import modes, reactions
from content.photos import set_photo
from tests.test_web_fixtures import add_song, world  # noqa: F401
from tests.test_web_curation import PNG

KNOWN_RULES = {"public", "user", "staff", "resident", "staff_resident", "song_file", "box", "pairing"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, view, method


@pytest.fixture
def bob_world(world, lib, tmp_path):
    world.songs["bob"] = add_song(world, lib, world.bob, 330, "Bob's song", "Band", tmp=tmp_path)
    world.songs["mary"] = add_song(world, lib, world.mary, 440, "Mary's song", "Band", tmp=tmp_path)
    set_photo(lib.db, world.media, world.bob.id, io.BytesIO(PNG))
    world.reactions = {}
    for who, song in ((world.bob, world.songs["bob"]), (world.mary, world.songs["mary"])):
        play = lib.db.execute("INSERT INTO plays (resident_id, song_id, started_at, ended_at, seconds_heard, ended_how) "
                              "VALUES (?, ?, '2026-05-01T10:00:00Z', '2026-05-01T10:03:00Z', 180, 'finished')",
                              [who.id, song]).lastrowid
        lib.db.conn.commit()
        world.reactions[who.id] = reactions.record(lib.db, who.id, "smiled", play_id=play, by_role="staff").id
        modes.add_window(lib.db, who.id, modes.make_window("calm", "19:00", "22:00"))
    world.invite_ids = {}
    for who in (world.bob, world.mary):
        account_links.create_invite(lib.db, who.id, secret=world.app.config["SECRET_KEY"])
        world.invite_ids[who.id] = invites.open_invites(lib.db, who.id)[0].id
    world.wish_ids = {who.id: wishes.ask(lib.db, who.id, "Que Sera, Sera", user_id=world.staff.id, by_staff=True).id
                      for who in (world.bob, world.mary)}
    return world


def _url(rule, world, lib, *, rid=None, sid=None) -> str:
    values = {}
    for arg in rule.arguments:
        if arg == "rid":
            values[arg] = world.bob.id if rid is None else rid
        elif arg == "sid":
            values[arg] = world.songs["bob"] if sid is None else sid
        elif arg == "uid":
            values[arg] = world.bob_family.id
        elif arg == "name":
            values[arg] = lib.db["songs"].get(world.songs["bob"])["sha256"] + ".wav"
        elif arg == "token":
            values[arg] = "not-a-real-token"
        elif arg == "filename":
            values[arg] = "admin.css"
        elif arg == "reaction_id":
            values[arg] = world.reactions[world.bob.id if rid is None else rid]
        elif arg == "wid":
            values[arg] = world.wish_ids[world.bob.id if rid is None else rid]
        elif arg == "iid":
            values[arg] = world.invite_ids[world.bob.id if rid is None else rid]
        elif arg == "index":
            values[arg] = 0
        elif arg == "chart":
            values[arg] = "minutes"
        elif arg == "upload_id":
            values[arg] = "an-upload-nobody-started00"
        else:
            raise AssertionError(f"the matrix does not know how to fill <{arg}> in {rule.rule}")
    with world.app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **values)


def _send(client, method, url, **kw):
    if method == "GET":
        return client.get(url)
    client.get("/login")  # a fresh token: an earlier POST may have been "log out"
    return client.post(url, {}, **kw)


def test_every_route_declares_who_may_use_it(world):
    missing = [r.rule for r, view, _ in _routes(world.app) if getattr(view, "access", None) not in KNOWN_RULES]
    assert missing == []
    # and the resident-scoped ones really are marked as such
    for rule, view, _ in _routes(world.app):
        if "rid" in rule.arguments:
            assert view.access in ("resident", "staff_resident"), rule.rule


def test_anonymous_visitors_are_sent_to_log_in(bob_world, lib):
    c = bob_world.client()
    c.get("/login")
    checked = 0
    for rule, view, method in _routes(bob_world.app):
        resp = _send(c, method, _url(rule, bob_world, lib))
        if view.access == "public":
            assert resp.status_code < 500, (method, rule.rule)
            continue
        assert resp.status_code == 302, (method, rule.rule, resp.status_code)
        assert resp.headers["Location"].startswith("/login"), (method, rule.rule)
        checked += 1
    assert checked >= 15


def test_a_family_member_cannot_reach_another_residents_anything(bob_world, lib):
    before = lib.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    c = bob_world.client(bob_world.mary_family)
    c.get(f"/residents/{bob_world.mary.id}")
    checked = 0
    for rule, view, method in _routes(bob_world.app):
        if view.access in ("public", "user"):
            continue
        kw = {}
        if "upload" in rule.rule and method == "POST":
            kw = {"data": {"csrf_token": c.token, "files": (io.BytesIO(b"RIFF"), "x.wav")},
                  "content_type": "multipart/form-data"}
            resp = c.c.post(_url(rule, bob_world, lib), **kw)
        else:
            resp = _send(c, method, _url(rule, bob_world, lib))
        assert resp.status_code in (403, 404), (method, rule.rule, resp.status_code)
        checked += 1
        # Mary's own page with Bob's song in the URL is no way in either.
        if "sid" in rule.arguments:
            resp = _send(c, method, _url(rule, bob_world, lib, rid=bob_world.mary.id))
            # (staff's own actions are refused to family before anything is looked up)
            assert resp.status_code == (403 if view.access == "staff_resident" else 404), (method, rule.rule)
    assert checked >= 12
    assert lib.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == before
    bob_song = library.resident_songs(lib.db, bob_world.bob.id)
    assert [(s.title, s.never_play, s.favourite) for s in bob_song] == [("Bob's song", False, False)]


def test_staff_reach_every_page(bob_world, lib):
    c = bob_world.client(bob_world.staff)
    for rule, view, method in _routes(bob_world.app):
        if method != "GET" or view.access == "public":
            continue
        if rule.endpoint == "upload.piece_status":
            continue  # an upload in pieces is only its sender's (tests/test_web_pieces.py)
        resp = c.get(_url(rule, bob_world, lib))
        assert resp.status_code == 200, (rule.rule, resp.status_code)


def test_family_reach_their_own_relatives_pages(bob_world, lib):
    c = bob_world.client(bob_world.mary_family)
    checked = 0
    for rule, view, method in _routes(bob_world.app):
        if method != "GET" or view.access not in ("resident", "user"):
            continue
        if rule.endpoint in ("residents.photo", "upload.piece_status"):
            continue  # Mary has no photo; an upload in pieces is only its sender's (test_web_pieces)
        resp = c.get(_url(rule, bob_world, lib, rid=bob_world.mary.id, sid=bob_world.songs["mary"]))
        assert resp.status_code in (200, 302), (rule.rule, resp.status_code)
        if resp.status_code == 302:  # a page that leads on, never back to logging in
            target = urlsplit(resp.headers["Location"]).path
            assert not target.startswith("/login"), (rule.rule, resp.headers["Location"])
            assert "Log in" not in c.get(target).get_data(as_text=True), (rule.rule, target)
        checked += 1
    assert checked >= 8


def test_posts_without_the_csrf_token_are_refused(bob_world, lib):
    c = bob_world.client(bob_world.staff)
    before = lib.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    checked = 0
    for rule, view, method in _routes(bob_world.app):
        if method != "POST":
            continue
        resp = c.post(_url(rule, bob_world, lib), {"never_play": "1", "name": "X", "favourite": "1"}, csrf=False)
        assert resp.status_code == 400, (rule.rule, resp.status_code)
        assert "expired" in resp.get_data(as_text=True)
        checked += 1
    assert checked >= 10
    assert lib.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == before
    assert bob_world.client(bob_world.staff).get("/").status_code == 200  # still logged in


def test_staff_pages_of_a_familys_own_relative_are_refused_to_the_family(bob_world, lib):
    before = lib.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    c = bob_world.client(bob_world.mary_family)
    c.get(f"/residents/{bob_world.mary.id}")
    checked = 0
    for rule, view, method in _routes(bob_world.app):
        if view.access != "staff_resident":
            continue
        resp = _send(c, method, _url(rule, bob_world, lib, rid=bob_world.mary.id))
        assert resp.status_code == 403, (method, rule.rule, resp.status_code)
        checked += 1
    assert checked >= 4
    assert lib.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == before
