"""A hub's box page and homes page follow the boxes in place: no meta refresh, a part of
each page fetched again by static/live.js (`.../part`), scoped like the page itself, and a
panel press answered in words for the page to show beside the buttons."""
from __future__ import annotations

from content.hub import boxes
from tests.test_hub_pages import _client, hub  # noqa: F401


def test_box_and_homes_pages_fetch_their_changing_part_instead_of_reloading(hub):
    box = boxes.add_box(hub["db"], hub["rose"].id, "Lounge")
    boxes.report_playing(hub["db"], box.id, {"state": "playing", "resident_id": hub["mary"].id,
                                              "song": {"title": "Lili Marleen"}})
    c = _client(hub, hub["rose_staff"])
    for page, part in ((f"/hub/boxes/{box.id}", f"/hub/boxes/{box.id}/part"),
                       ("/hub/", f"/hub/homes/{hub['rose'].id}/part")):
        html = c.get(page).get_data(as_text=True)
        assert 'http-equiv="refresh"' not in html
        assert f'data-live="{part}"' in html and "Check again" in html
        alone = c.get(part).get_data(as_text=True)
        assert "Lili Marleen" in alone and "<html" not in alone
    # Another home's box and home stay out of reach through their parts too.
    oak_box = boxes.add_box(hub["db"], hub["oak"].id, "Oak lounge")
    assert c.get(f"/hub/boxes/{oak_box.id}/part").status_code == 404
    assert c.get(f"/hub/homes/{hub['oak'].id}/part").status_code == 404


def test_a_press_sent_in_place_is_answered_in_words(hub):
    box = boxes.add_box(hub["db"], hub["rose"].id, "Lounge")
    c = _client(hub, hub["rose_staff"])
    c.get(f"/hub/boxes/{box.id}")
    said = c.post(f"/hub/boxes/{box.id}/press", {"action": "play"}, headers={"X-Requested-With": "XMLHttpRequest",
                                                                          "Accept": "application/json"})
    assert said.get_json()["ok"] is True and said.get_json()["said"].startswith("Sent: Play.")
    refused = c.post(f"/hub/boxes/{box.id}/press", {"action": "shutdown"},
                     headers={"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"})
    assert refused.status_code == 400 and "not one the music box knows" in refused.get_json()["error"]
    assert [x["action"] for x in boxes.pending_commands(hub["db"], box.id)] == ["play"]
