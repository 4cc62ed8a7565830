"""Plain words: a year field says what it wants before anyone types, and a year it cannot
read is explained in a sentence (not the browser's "Please match the requested format")."""
from __future__ import annotations

from tests.test_web_fixtures import add_song, world  # noqa: F401


def test_year_fields_explain_themselves(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Lili Marleen", "Lale Andersen", tmp=tmp_path)
    staff = world.client(world.staff)
    for page in (f"/residents/{world.mary.id}/songs/{sid}", f"/residents/{world.mary.id}/settings", "/residents/new"):
        html = staff.get(page).get_data(as_text=True)
        assert "Four digits, like 1956." in html, page
        assert "pattern=" not in html, page


def test_a_year_in_words_gets_a_sentence_back(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Lili Marleen", "Lale Andersen", tmp=tmp_path)
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}/songs/{sid}")
    resp = c.post(f"/residents/{world.mary.id}/songs/{sid}",
                  {"title": "Lili Marleen", "artist": "Lale Andersen", "year": "nineteen forty", "note": ""})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "“nineteen forty” is not a year we can read. Please write it as four digits, like 1956." in text
