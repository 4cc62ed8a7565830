"""Times of day: a schedule per resident, the queue that honours it (calm, steady beat, the
care task), favourites and keepers first, and a graceful fallback when too few songs fit."""
from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from content.care import modes
from content.care.modes import Mode, Pace
from content.db import LibraryError
from content.era.weights import EraWeights
from content.queue import Candidate, QueueContext, build_queue, next_songs
from tests.carekit import add_song


def song(i: int, **kw) -> Candidate:
    return Candidate(song_id=i, title=f"Song {i}", artist=f"Artist {i}", year=1955, **kw)


def queue(pool, mode, n=20, seed=1, **ctx) -> list[int]:
    return build_queue(pool, QueueContext(birth_year=1940, mode=mode, **ctx), random.Random(seed), n)


# -- the schedule --------------------------------------------------------------------------

def test_a_window_can_run_past_midnight_and_the_first_match_decides():
    calm = modes.make_window("calm", "21:00", "07:00")
    walk = modes.make_window("steady_beat", "10:30", "11:15")
    day = [walk, calm]
    assert modes.mode_at(day, dt.time(23, 30)) is Mode.CALM
    assert modes.mode_at(day, dt.time(6, 59)) is Mode.CALM
    assert modes.mode_at(day, dt.time(7, 0)) is Mode.USUAL
    assert modes.mode_at(day, dt.time(10, 45)) is Mode.STEADY
    assert modes.mode_at(day, dt.time(11, 15)) is Mode.USUAL


@pytest.mark.parametrize("mode,start,end", [("usual", "19:00", "20:00"), ("care_task", "19:00", "20:00"),
                                            ("calm", "7pm", "20:00"), ("calm", "25:00", "20:00"),
                                            ("calm", "19:00", "19:00"), ("calm", "１９:00", "20:00")])
def test_a_window_that_makes_no_sense_is_refused_in_words(mode, start, end):
    with pytest.raises(LibraryError):
        modes.make_window(mode, start, end)


def test_the_schedule_is_kept_on_the_resident_and_read_back(lib, mary):
    modes.add_window(lib.db, mary.id, modes.make_window("calm", "19:00", "22:00"))
    modes.add_window(lib.db, mary.id, modes.make_window("steady_beat", "10:00", "10:30"))
    assert [w.words for w in modes.schedule(lib.db, mary.id)] == ["Calm, 19:00 to 22:00",
                                                                  "Steady beat, 10:00 to 10:30"]
    local = dt.datetime(2026, 5, 1, 20, 15).astimezone()
    assert modes.scheduled_mode(lib.db, mary.id, local) is Mode.CALM
    modes.remove_window(lib.db, mary.id, 0)
    assert modes.scheduled_mode(lib.db, mary.id, local) is Mode.USUAL


# -- the queue in a mode -------------------------------------------------------------------

def test_a_calm_evening_plays_only_calm_songs_when_enough_exist(lib, mary):
    db = lib.db
    calm = [add_song(db, mary.id, f"Lullaby {i}", feel="calm") for i in range(6)]
    lively = [add_song(db, mary.id, f"Jive {i}", feel="steady") for i in range(4)]
    unmarked = [add_song(db, mary.id, f"Unknown {i}") for i in range(4)]
    modes.add_window(db, mary.id, modes.make_window("calm", "19:00", "23:00"))
    evening = modes.scheduled_mode(db, mary.id, dt.datetime(2026, 5, 1, 20, 0).astimezone())
    heard = Counter()
    for seed in range(20):
        heard.update(next_songs(db, mary.id, random.Random(seed), mode=evening, length=20))
    assert set(heard) == set(calm)
    assert not set(heard) & (set(lively) | set(unmarked))
    # The usual music in the morning plays them all.
    morning = modes.scheduled_mode(db, mary.id, dt.datetime(2026, 5, 1, 9, 0).astimezone())
    assert set(next_songs(db, mary.id, random.Random(1), mode=morning, length=200)) == set(calm + lively + unmarked)


def test_too_few_calm_songs_widen_to_unmarked_ones_but_not_to_lively_ones():
    pool = [song(1, feel="calm"), song(2, feel="calm")] + [song(10 + i) for i in range(4)] + \
           [song(20 + i, feel="steady") for i in range(4)]
    heard = set(queue(pool, Mode.CALM, n=200))
    assert heard == {1, 2, 10, 11, 12, 13}
    # Only lively songs in the library: the music still plays rather than a silent box.
    assert set(queue([song(20 + i, feel="steady") for i in range(3)], Mode.CALM, n=30)) == {20, 21, 22}


def test_favourites_and_keepers_within_the_mode_come_first():
    pool = [song(i, feel="calm") for i in range(1, 9)] + [song(30, feel="calm", favourite=True),
                                                           song(31, feel="calm", detective="keeper"),
                                                           song(40, favourite=True, feel="steady")]
    for seed in range(20):
        order = queue(pool, Mode.CALM, seed=seed)
        assert set(order[:2]) == {30, 31}
        assert 40 not in order


def test_a_steady_beat_starts_near_the_residents_pace_within_the_range():
    pool = [song(1, tempo=70.0), song(2, tempo=92.0), song(3, tempo=104.0), song(4, tempo=118.0),
            song(5, tempo=150.0), song(6, tempo=110.0), song(7, tempo=96.0), song(8, tempo=100.5)]
    order = queue(pool, Mode.STEADY, n=30, pace=Pace(low=90, high=120, pace=101))
    assert order[0] == 8
    assert set(order) == {2, 3, 4, 6, 7, 8}
    # A person's mark wins over a measured tempo.
    marked = [song(1, tempo=70.0, feel="steady")] + pool[1:]
    steady = queue(marked, Mode.STEADY, n=60, pace=Pace(low=90, high=120, pace=101))
    assert set(steady) == {1, 2, 3, 4, 6, 7, 8}, "the song marked steady joins, though its tempo is 70"


def test_calm_by_tempo_when_the_library_knows_it():
    pool = [song(i, tempo=t) for i, t in enumerate([60, 66, 72, 75, 79, 85, 120, 140], start=1)]
    assert set(queue(pool, Mode.CALM, n=60)) == {1, 2, 3, 4, 5}
    faster = dict(weights=EraWeights(calm_max_bpm=90))
    assert set(queue(pool, Mode.CALM, n=60, **faster)) == {1, 2, 3, 4, 5, 6}


def test_before_a_care_task_calming_keepers_come_first_then_other_calm_songs():
    pool = [song(1, feel="calm", detective="keeper"), song(2, feel="calm", favourite=True),
            song(3, feel="calm"), song(4, feel="calm"), song(5, feel="calm"),
            song(6, detective="keeper"), song(7, feel="steady", detective="keeper")]
    for seed in range(10):
        order = queue(pool, Mode.CARE_TASK, seed=seed)
        assert set(order[:2]) == {1, 2}
        assert set(order) <= {1, 2, 3, 4, 5}
    # Too few calm songs: unmarked keepers join before unmarked others.
    few = [song(1, feel="calm", detective="keeper"), song(6, detective="keeper"), song(8), song(9), song(10),
           song(11), song(12)]
    order = queue(few, Mode.CARE_TASK, n=40, weights=EraWeights(mode_min_songs=2))
    assert set(order) == {1, 6}


def test_dropped_songs_stay_out_unless_nothing_else_could_play():
    pool = [song(1), song(2), song(3, detective="dropped")]
    assert 3 not in queue(pool, Mode.USUAL, n=100)
    assert set(queue([song(3, detective="dropped")], Mode.USUAL, n=5)) == {3}


def test_a_care_task_wins_over_decade_radio(lib, mary):
    db = lib.db
    keeper = add_song(db, mary.id, "Keeper", year=1975, feel="calm", detective="keeper")
    fifties = [add_song(db, mary.id, f"Fifties {i}", year=1955) for i in range(3)]
    assert set(next_songs(db, mary.id, random.Random(1), decade=1950, length=30)) == set(fifties)
    assert next_songs(db, mary.id, random.Random(1), decade=1950, mode=Mode.CARE_TASK, length=5)[0] == keeper
