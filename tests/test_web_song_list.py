"""A calm song list: compact rows with the rest under "More", favourite said in words,
never-play asked in a confirmation step with the reason, and what a tap did said at the
song it concerns with an undo; a song staff flagged says so to the family, with no button
that leads to an error."""
from __future__ import annotations

import re

from tests.test_web_fixtures import add_song, world  # noqa: F401


def _row(page: str, sid: int) -> str:
    start = page.index(f'<li id="song-{sid}"')
    return page[start:page.index("</li>", start)]


def test_confirmation_at_the_song_with_undo_for_a_favourite(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Lili Marleen", "Lale Andersen", tmp=tmp_path)
    c = world.client(world.mary_family)
    c.get(f"/residents/{world.mary.id}")
    resp = c.post(f"/residents/{world.mary.id}/songs/{sid}/favourite", {"favourite": "1", "back": "list"})
    assert resp.headers["Location"].endswith(f"/residents/{world.mary.id}#done-{sid}")
    page = c.get(f"/residents/{world.mary.id}").get_data(as_text=True)
    row = _row(page, sid)
    assert "is now one of Mary&#39;s favourites" in row and 'role="status"' in row and "★ A favourite" in row
    assert "favourites" not in page[:page.index(f'<li id="song-{sid}"')]     # said at the song, not at the top
    undo = re.search(r'<form method="post" action="([^"]+)" class="inline">(.*?)Undo</button>', row, re.S)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', undo.group(2)))
    fields.pop("csrf_token")
    c.post(undo.group(1), fields)
    assert lib.db["resident_songs"].get((world.mary.id, sid))["favourite"] == 0
    assert "★ A favourite" not in _row(c.get(f"/residents/{world.mary.id}").get_data(as_text=True), sid)


def test_never_play_asks_first_and_can_be_undone(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Sad song", "Band", tmp=tmp_path)
    c = world.client(world.mary_family)
    page = c.get(f"/residents/{world.mary.id}").get_data(as_text=True)
    assert "Never play…</a>" in _row(page, sid) and 'name="reason"' not in page   # no reason box on the list
    ask = c.get(f"/residents/{world.mary.id}/songs/{sid}/never-play?back=list").get_data(as_text=True)
    assert "Never play “Sad song” for Mary?" in ask and 'name="reason"' in ask and "No, keep it" in ask
    assert lib.db["resident_songs"].get((world.mary.id, sid))["never_play"] == 0   # asking changes nothing
    resp = c.post(f"/residents/{world.mary.id}/songs/{sid}/never-play",
                  {"never_play": "1", "reason": "Too sad", "back": "list"})
    assert resp.headers["Location"].endswith(f"#done-{sid}")
    row = _row(c.get(f"/residents/{world.mary.id}").get_data(as_text=True), sid)
    assert "will never play for Mary" in row and "Never plays: Too sad" in row and "Undo: let it play again" in row
    c.post(f"/residents/{world.mary.id}/songs/{sid}/never-play", {"never_play": "0", "back": "list"})
    row = _row(c.get(f"/residents/{world.mary.id}").get_data(as_text=True), sid)
    assert "can play for Mary again" in row and "Undo: never play it" in row


def test_a_song_staff_flagged_says_so_to_the_family_without_a_dead_end(world, lib, tmp_path):
    sid = add_song(world, lib, world.mary, 440, "Upsetting", "Band", tmp=tmp_path)
    staff = world.client(world.staff)
    staff.get(f"/residents/{world.mary.id}")
    staff.post(f"/residents/{world.mary.id}/songs/{sid}/never-play", {"never_play": "1", "reason": "She cried"})
    assert "Let it play again" in _row(staff.get(f"/residents/{world.mary.id}").get_data(as_text=True), sid)
    family = world.client(world.mary_family)
    row = _row(family.get(f"/residents/{world.mary.id}").get_data(as_text=True), sid)
    assert "Never plays: She cried" in row and "The care staff decided this" in row
    assert "play again</button>" not in row and "Allow" not in row
    song = family.get(f"/residents/{world.mary.id}/songs/{sid}").get_data(as_text=True)
    assert "The care staff decided this" in song and "play again</button>" not in song


def test_rows_stay_compact(world, lib, tmp_path):
    for i, freq in enumerate((330, 440, 550)):
        add_song(world, lib, world.mary, freq, f"Song {i}", "Band", tmp=tmp_path)
    page = world.client(world.mary_family).get(f"/residents/{world.mary.id}").get_data(as_text=True)
    assert page.count('<details class="more">') == 3
    for row in re.findall(r'<li id="song-\d+".*?</li>', page, re.S):
        before_more = row[:row.index('<details class="more">')]
        assert "<form" not in before_more and "<button" not in before_more
