"""A real hub (waitress on 127.0.0.1) against a box that lies or hogs, and a stranger with a
wrong address: a box speaks only for its own residents, one box cannot take every waiting
place, and a wrong Host gets the same plain refusal whatever the method."""
from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request

import pytest

from content import accounts
from content.hub import boxes
from tests.hubkit import Hub, wait_for
from tests.test_web_fixtures import FAMILY_PW, Browser


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path / "hub")
    yield h
    h.close()


def _paired(hub: Hub, home, name: str, residents) -> str:
    """A box of `home` for `residents`, paired: its bearer credential."""
    _, code = hub.box(home, name, residents)
    return boxes.pair(hub.db, code)[1]


def _call(url: str, credential: str, body: dict | None = None, timeout: float = 30):
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {credential}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_box_cannot_say_it_plays_for_another_homes_resident(hub):
    hub.start()
    rose, oak = hub.home("Rose House"), hub.home("Oak Lodge")
    mary, olive = hub.resident("Mary", rose), hub.resident("Olive", oak)
    rose_box = _paired(hub, rose, "Rose lounge", [mary])
    oak_box = _paired(hub, oak, "Oak lounge", [olive])
    hub.staff()
    olive_family = accounts.create_user(hub.db, "otto@family.example", FAMILY_PW, "family", resident_ids=[olive.id])
    family = Browser(hub.app.test_client())
    family.login(olive_family.email, FAMILY_PW)

    status, _ = _call(hub.url + "/api/box/report", rose_box,
                      {"playing": {"state": "playing", "resident_id": olive.id, "song": {"title": "SPOOFED"}}})
    assert status == 200
    assert "SPOOFED" not in family.get(f"/residents/{olive.id}/now-playing").get_data(as_text=True)
    # Olive's own box still speaks for her.
    _call(hub.url + "/api/box/report", oak_box,
          {"playing": {"state": "playing", "resident_id": olive.id, "song": {"title": "Moon River"}}})
    assert "Moon River" in family.get(f"/residents/{olive.id}/now-playing").get_data(as_text=True)
    # Once she is taken off that box, what it last said is no longer hers.
    boxes.assign(hub.db, box_id(hub, "Oak lounge"), [])
    assert "Moon River" not in family.get(f"/residents/{olive.id}/now-playing").get_data(as_text=True)


def test_one_box_cannot_take_every_waiting_place(hub):
    hub.start(HUB_WAIT_SLOTS=4)
    rose = hub.home("Rose House")
    mary, bob = hub.resident("Mary", rose), hub.resident("Bob", rose)
    box_a = _paired(hub, rose, "Lounge", [mary])
    box_b = _paired(hub, rose, "Room 12", [bob])
    etag_a = _call(hub.url + "/api/box/wait", box_a)[1]["etag"]
    etag_b = _call(hub.url + "/api/box/wait", box_b)[1]["etag"]
    watch = hub.app.extensions["evergreen.watch"]
    answers: list = []
    hogs = [threading.Thread(target=lambda: answers.append(
        _call(f"{hub.url}/api/box/wait?timeout=60&etag={etag_a}", box_a, timeout=90))) for _ in range(4)]
    for t in hogs:
        t.start()
    # Box A's earlier waits are answered (it polls again) as its newer ones arrive.
    wait_for(lambda: len(answers) >= 3, 20, "box A's older waits were answered")
    assert watch.waiting_boxes() == {box_id(hub, "Lounge")}
    status, body = _call(f"{hub.url}/api/box/wait?timeout=1&etag={etag_b}", box_b)
    assert status == 200 and body["retry"] == 0
    hub.stop()
    for t in hogs:
        t.join(10)


def box_id(hub: Hub, name: str) -> int:
    return next(b.id for b in boxes.list_boxes(hub.db) if b.name == name)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_wrong_host_gets_the_same_plain_refusal_for_every_method(hub, method):
    hub.start(PUBLIC_URL="https://music.example.org")
    conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=10)
    conn.request(method, "/login", body="email=a%40b.example&password=x" if method == "POST" else None,
                 headers={"Host": "evil.example", "Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 400, body[:300]
    assert b"not trusted" in body
