"""Songs to look for: the teenage-years suggestions behind a real button near the top of the
resident's page, each one marked "we'll look for it" (family) or asked for (staff); families
see what staff asked for, and a song leaves the list once it is in the resident's songs."""
from __future__ import annotations

from content import wishes
from tests.test_web_fixtures import add_song, world  # noqa: F401


def _mark(client, world, title: str, artist: str, year: str):
    client.get(f"/residents/{world.mary.id}/suggestions")
    return client.post(f"/residents/{world.mary.id}/suggestions/look-for",
                       {"title": title, "artist": artist, "year": year}, follow_redirects=True)


def test_the_button_comes_before_the_songs(world):
    page = world.client(world.mary_family).get(f"/residents/{world.mary.id}").get_data(as_text=True)
    button = page.index(f'href="/residents/{world.mary.id}/suggestions"')
    assert button < page.index('class="songs"') and button < page.index('role="search"')


def test_family_sees_what_staff_asked_for_and_what_they_will_find(world, lib, tmp_path):
    staff, anne = world.client(world.staff), world.client(world.mary_family)
    suggestions = anne.get(f"/residents/{world.mary.id}/suggestions").get_data(as_text=True)
    assert "We'll look for it" in suggestions
    asked = _mark(staff, world, "Que Sera, Sera (Whatever Will Be, Will Be)", "Doris Day", "1956")
    assert "the family will see it" in asked.get_data(as_text=True)
    mine = _mark(anne, world, "Rock Around the Clock", "Bill Haley & His Comets", "1954")
    assert "on your list of songs to look for" in mine.get_data(as_text=True)
    page = anne.get(f"/residents/{world.mary.id}").get_data(as_text=True)
    looking = page[page.index("Songs to look for</h2>"):page.index("</section>", page.index("Songs to look for</h2>"))]
    assert "Que Sera, Sera" in looking and "the care staff asked for it" in looking
    assert "Rock Around the Clock" in looking and "you will look for it" in looking
    # Staff see who said they would look.
    staff_page = staff.get(f"/residents/{world.mary.id}/suggestions").get_data(as_text=True)
    assert "will look for it" in staff_page
    # Once the song is in Mary's songs it leaves the list by itself.
    add_song(world, lib, world.mary, 440, "Que Sera Sera", "Doris Day", tmp=tmp_path)
    assert [w.title for w in wishes.open_wishes(lib.db, world.mary.id)] == ["Rock Around the Clock"]
    assert "Que Sera" not in anne.get(f"/residents/{world.mary.id}").get_data(as_text=True).split("Songs to look for")[1][:400]


def test_only_staff_or_whoever_marked_it_takes_it_back(world, lib):
    staff, anne = world.client(world.staff), world.client(world.mary_family)
    _mark(staff, world, "Blue Moon", "The Marcels", "1961")
    wish = wishes.open_wishes(lib.db, world.mary.id)[0]
    anne.get(f"/residents/{world.mary.id}")
    assert anne.post(f"/residents/{world.mary.id}/wishes/{wish.id}/remove").status_code == 404
    assert "Take off the list" not in anne.get(f"/residents/{world.mary.id}").get_data(as_text=True)
    staff.get(f"/residents/{world.mary.id}")
    assert staff.post(f"/residents/{world.mary.id}/wishes/{wish.id}/remove").status_code == 302
    assert wishes.open_wishes(lib.db, world.mary.id) == []


def test_marking_twice_keeps_one(world, lib):
    anne = world.client(world.mary_family)
    _mark(anne, world, "Blue Moon", "The Marcels", "1961")
    _mark(anne, world, "Blue Moon", "The Marcels", "1961")
    assert len(wishes.open_wishes(lib.db, world.mary.id)) == 1
