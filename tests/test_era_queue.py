"""The weighted shuffle: era weights, favourites, never-play, skips, rest, artists, decade radio."""
from __future__ import annotations

import hashlib
import random
from collections import Counter

import pytest

from content import library
from content.db import LibraryError, write
from content.era.weights import AgeBand, EraWeights
from content.queue import Candidate, QueueContext, build_queue, candidates, next_songs

BORN = 1938


def song(song_id: int, year: int | None, *, artist: str | None = None, **flags) -> Candidate:
    return Candidate(song_id=song_id, title=f"Song {song_id}", artist=artist or f"Artist {song_id}", year=year, **flags)


def first_picks(pool, context, n=10_000, seed=7) -> Counter:
    rng = random.Random(seed)
    return Counter(build_queue(pool, context, rng, 1)[0] for _ in range(n))


def within(observed: int, n: int, p: float) -> bool:
    """Inside four standard deviations of a binomial count (fixed seed, so never flaky)."""
    sd = (n * p * (1 - p)) ** 0.5
    return abs(observed - n * p) <= 4 * sd


def test_songs_come_up_as_often_as_their_age_at_release_says():
    # age at release → DESIGN.md's weight
    ages = {1: (15, 1.0), 2: (25, 0.8), 3: (11, 0.8), 4: (40, 0.4), 5: (6, 0.3), 6: (-10, 0.3), 7: (60, 0.1)}
    pool = [song(i, BORN + age) for i, (age, _) in ages.items()] + [song(8, None)]
    expected = {i: w for i, (_, w) in ages.items()} | {8: EraWeights().unknown_year}
    counts = first_picks(pool, QueueContext(birth_year=BORN))
    total = sum(expected.values())
    for i, w in expected.items():
        assert within(counts[i], 10_000, w / total), (i, counts[i], 10_000 * w / total)
    assert counts[1] > counts[2] > counts[4] > counts[7]   # teens beat twenties beat forties beat old age


def test_without_a_birth_year_every_era_is_equal():
    pool = [song(1, 1950), song(2, 1990)]
    counts = first_picks(pool, QueueContext(birth_year=None), n=4000)
    assert within(counts[1], 4000, 0.5)


def test_never_play_and_unplayable_songs_never_come_up():
    pool = [song(1, 1953), song(2, 1953, never_play=True, favourite=True), song(3, 1953, unplayable=True),
            song(4, 1960), song(5, 1945)]
    rng = random.Random(1)
    heard = Counter()
    for _ in range(100):
        heard.update(build_queue(pool, QueueContext(birth_year=BORN), rng, 100))
    assert sum(heard.values()) == 10_000
    assert heard[2] == 0 and heard[3] == 0
    assert set(heard) == {1, 4, 5}


def test_favourites_come_up_more_often_than_the_same_era_song():
    pool = [song(1, 1953, favourite=True), song(2, 1953)]
    counts = first_picks(pool, QueueContext(birth_year=BORN))
    assert within(counts[1], 10_000, 3 / 4)


def test_a_song_skipped_early_three_times_sinks():
    pool = [song(1, 1953, early_skips=3), song(2, 1953, early_skips=2), song(3, 1953)]
    counts = first_picks(pool, QueueContext(birth_year=BORN))
    assert counts[1] * 5 < counts[2]
    assert within(counts[2], 10_000, 1 / 2.1)


def test_a_song_just_played_rests_and_comes_back_over_hours():
    pool = [song(1, 1953, last_played_s_ago=60), song(2, 1953, last_played_s_ago=2 * 3600), song(3, 1953)]
    counts = first_picks(pool, QueueContext(birth_year=BORN))
    assert counts[1] < counts[2] < counts[3]


def test_no_artist_twice_in_a_row_and_no_song_again_too_soon():
    pool = [song(i, 1950 + i % 10, artist="Vera Lynn") for i in range(1, 11)]
    pool += [song(i, 1955, artist=f"Someone {i}") for i in range(11, 16)]
    queue = build_queue(pool, QueueContext(birth_year=BORN, recent=(3,)), random.Random(5), 500)
    artist = {c.song_id: c.artist for c in pool}
    assert artist[queue[0]] != "Vera Lynn"        # the song before was Vera Lynn's
    for a, b in zip(queue, queue[1:]):
        assert artist[a] != artist[b] or artist[a] != "Vera Lynn"
    gap = min(EraWeights().queue_gap, len(pool) // 3)     # a third of a small library
    for i in range(len(queue)):
        assert queue[i] not in queue[max(0, i - gap):i]


def test_the_same_seed_gives_the_same_order():
    pool = [song(i, 1930 + i) for i in range(1, 40)]
    ctx = QueueContext(birth_year=BORN)
    assert build_queue(pool, ctx, random.Random(42), 30) == build_queue(pool, ctx, random.Random(42), 30)
    assert build_queue(pool, ctx, random.Random(42), 30) != build_queue(pool, ctx, random.Random(43), 30)


def test_a_tiny_library_still_fills_the_queue():
    assert build_queue([song(1, 1950)], QueueContext(birth_year=BORN), random.Random(1), 5) == [1] * 5
    two = build_queue([song(1, 1950, artist="A"), song(2, 1951, artist="A")], QueueContext(), random.Random(1), 6)
    assert all(a != b for a, b in zip(two, two[1:]))
    assert build_queue([song(1, 1950, never_play=True)], QueueContext(), random.Random(1), 5) == []


def test_decade_radio_plays_only_that_decade():
    own = [song(i, 1950 + i) for i in range(1, 10)] + [song(20, 1962), song(21, None)]
    queue = build_queue(own, QueueContext(birth_year=BORN, decade=1950), random.Random(3), 200)
    assert set(queue) == set(range(1, 10))


def test_decade_radio_tops_up_from_others_but_never_a_red_flagged_song():
    own = [song(1, 1952), song(2, 1957, never_play=True), song(3, 1961)]
    others = [song(10, 1950), song(11, 1955), song(2, 1957), song(12, 1959, unplayable=True), song(13, 1948)]
    ctx = QueueContext(birth_year=BORN, decade=1950, fallback=tuple(others))
    queue = build_queue(own, ctx, random.Random(3), 300)
    assert set(queue) == {1, 10, 11}
    counts = Counter(queue)
    assert counts[1] > counts[10]                  # the resident's own song weighs more


def test_decade_radio_with_enough_own_songs_does_not_top_up():
    own = [song(i, 1950 + i % 10) for i in range(1, 12)]
    ctx = QueueContext(birth_year=BORN, decade=1950, fallback=(song(99, 1955),))
    assert 99 not in build_queue(own, ctx, random.Random(3), 300)


def test_every_number_can_be_overridden_and_bad_settings_say_what_is_wrong():
    w = EraWeights.from_setting({"bands": [[13, 19, 2.0]], "otherwise": 0.5, "favourite_boost": 1})
    assert w.bands == (AgeBand(13, 19, 2.0),)
    assert w.era_weight(1953, BORN) == 2.0 and w.era_weight(1990, BORN) == 0.5
    with pytest.raises(LibraryError, match="unknown entry 'favorite_boost'"):
        EraWeights.from_setting({"favorite_boost": 2})
    with pytest.raises(LibraryError, match="must be a number"):
        EraWeights.from_setting({"otherwise": "lots"})
    with pytest.raises(LibraryError, match="does not make sense"):
        EraWeights.from_setting({"bands": [[19, 13, 1.0]]})


# -- through the library ------------------------------------------------------------------

def add_song(db, title: str, artist: str, year: int | None, **extra) -> int:
    digest = hashlib.sha256(f"{title}/{artist}/{year}".encode()).hexdigest()
    with write(db):
        return db["songs"].insert({
            "sha256": digest, "ext": "ogg", "format": "ogg", "title": title, "artist": artist,
            "tag_year": year, "duration": 120.0, "size_bytes": 1000, **extra,
        }).last_pk


def link(db, resident_id: int, song_id: int) -> None:
    """Give a resident the song, its entry dated by the file's tag (whatever the catalogue says)."""
    library.link_song(db, resident_id, song_id)
    with write(db):
        db.execute("UPDATE resident_songs SET year = (SELECT tag_year FROM songs WHERE id = ?), year_source = 'tag' "
                   "WHERE resident_id = ? AND song_id = ?", [song_id, resident_id, song_id])


def add_play(db, resident_id: int, song_id: int, seconds: float, how: str, at: str = "2026-01-01T10:00:00Z"):
    with write(db):
        db["plays"].insert({"resident_id": resident_id, "song_id": song_id, "started_at": at,
                            "seconds_heard": seconds, "ended_how": how})


def test_next_songs_reads_flags_and_skips_from_the_library(lib, mary):
    db = lib.db
    ids = [add_song(db, f"Tune {i}", f"Band {i}", 1950 + i) for i in range(6)]
    for i in ids:
        link(db, mary.id, i)
    library.set_song_flags(db, mary.id, ids[0], never_play=True)
    for _ in range(3):
        add_play(db, mary.id, ids[1], 5, "next")
    add_play(db, mary.id, ids[2], 5, "finished")
    add_play(db, mary.id, ids[2], 30, "next")
    by_id = {c.song_id: c for c in candidates(db, mary.id)}
    assert by_id[ids[1]].early_skips == 3 and by_id[ids[2]].early_skips == 0
    assert by_id[ids[2]].last_played_s_ago is not None
    heard = Counter()
    rng = random.Random(9)
    for _ in range(20):
        heard.update(next_songs(db, mary.id, rng, length=50))
    assert heard[ids[0]] == 0
    assert heard[ids[1]] * 4 < heard[ids[3]]


def test_next_songs_follows_the_weights_setting_and_survives_a_broken_one(lib, mary):
    db = lib.db
    fav = add_song(db, "Favourite", "A", 1953)
    other = add_song(db, "Other", "B", 1953)
    for s in (fav, other):
        link(db, mary.id, s)
    library.set_song_flags(db, mary.id, fav, favourite=True)
    library.set_setting(db, "era.weights", {"favourite_boost": 0})
    assert set(next_songs(db, mary.id, random.Random(1), length=10)) == {other}
    library.set_setting(db, "era.weights", {"no_such_thing": 1})
    assert set(next_songs(db, mary.id, random.Random(1), length=10)) == {fav, other}


def test_decade_radio_through_the_library(lib, mary):
    db = lib.db
    bob = library.add_resident(db, "Bob", birth_year=1935)
    mine = add_song(db, "Mine", "M", 1954)
    mine_other_decade = add_song(db, "Later", "L", 1966)
    shared_bad = add_song(db, "Upsets Mary", "U", 1956)
    bobs = [add_song(db, f"Bob {i}", f"B{i}", 1950 + i) for i in range(3)]
    flagged_by_bob = add_song(db, "Upsets Bob", "X", 1957)
    broken = add_song(db, "Broken", "Y", 1958, unplayable=1)
    bob_1940s = add_song(db, "Forties", "Z", 1944)
    for s in (mine, mine_other_decade, shared_bad):
        link(db, mary.id, s)
    library.set_song_flags(db, mary.id, shared_bad, never_play=True)
    for s in (*bobs, shared_bad, flagged_by_bob, broken, bob_1940s):
        link(db, bob.id, s)
    library.set_song_flags(db, bob.id, flagged_by_bob, never_play=True)
    heard = set(next_songs(db, mary.id, random.Random(2), decade=1950, length=200))
    assert heard == {mine, *bobs}
    assert next_songs(db, mary.id, random.Random(2), decade=1920, length=5) == []
