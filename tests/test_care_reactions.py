"""Reactions: logged against the song playing now or a recent play, counted once on the
song, lifting or sinking it in the next queue, and two upsets suggesting never-play."""
from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from content import accounts, library
from content.care import reactions
from content.care.reactions import ReactionKind
from content.db import LibraryError
from content.queue import next_songs
from tests.carekit import add_play, add_song, at


def within(observed: int, n: int, p: float) -> bool:
    sd = (n * p * (1 - p)) ** 0.5
    return abs(observed - n * p) <= 4 * sd


def tallies(db, rid, sid):
    return db.execute("SELECT reactions_positive, reactions_negative FROM resident_songs "
                      "WHERE resident_id = ? AND song_id = ?", [rid, sid]).fetchone()


def test_the_song_playing_now_comes_first_then_the_last_few_each_once(lib, mary):
    db = lib.db
    a, b, c = (add_song(db, mary.id, t) for t in ("A", "B", "C"))
    now = dt.datetime.now(dt.timezone.utc)
    add_play(db, mary.id, a, now - dt.timedelta(minutes=12))
    add_play(db, mary.id, b, now - dt.timedelta(minutes=9))
    add_play(db, mary.id, a, now - dt.timedelta(minutes=6))
    playing = add_play(db, mary.id, c, now - dt.timedelta(minutes=1), how=None)
    found = reactions.targets(db, mary.id, now=now)
    assert [(t.title, t.playing_now) for t in found] == [("C", True), ("A", False), ("B", False)]
    assert found[0].play_id == playing
    # An unfinished play from yesterday (the power went) is not "playing now".
    assert not reactions.targets(db, mary.id, now=now + dt.timedelta(days=1))[0].playing_now


def test_a_reaction_counts_on_the_song_once_and_can_be_taken_back(lib, mary):
    db = lib.db
    sid = add_song(db, mary.id, "Moon River")
    play = add_play(db, mary.id, sid, at(1, 10))
    r = reactions.record(db, mary.id, "smiled", play_id=play, user_id=None, by_role="staff")
    assert (r.song_id, r.kind, r.title) == (sid, ReactionKind.SMILED, "Moon River")
    reactions.record(db, mary.id, ReactionKind.AGITATED, song_id=sid, by_role="family")
    assert tuple(tallies(db, mary.id, sid)) == (1, 1)
    # The same reaction arriving again (a box resending it) changes nothing.
    assert reactions.receive(db, r.uid, reactions.to_payload(r), resident_id=mary.id) is False
    assert db.execute("SELECT COUNT(*) FROM reactions").fetchone()[0] == 2
    assert tuple(tallies(db, mary.id, sid)) == (1, 1)
    reactions.remove(db, mary.id, r.id, user_id=0, staff=True)
    assert tuple(tallies(db, mary.id, sid)) == (0, 1)


def test_a_reaction_from_the_other_side_is_new_once(lib, mary):
    db = lib.db
    sid = add_song(db, mary.id, "Moon River")
    payload = {"resident_id": mary.id, "song_id": sid, "at": "2026-05-01T10:00:00.000000Z", "reaction": "sang_along",
               "note": "Every word", "note_staff_only": False, "source": "box", "by_role": "staff"}
    assert reactions.receive(db, "box-1/reaction/7", payload, resident_id=mary.id) is True
    assert reactions.receive(db, "box-1/reaction/7", payload, resident_id=mary.id) is False
    assert tuple(tallies(db, mary.id, sid)) == (1, 0)
    assert reactions.by_uid(db, "box-1/reaction/7").note == "Every word"


def test_reactions_about_someone_elses_song_or_play_are_refused(lib, mary):
    db = lib.db
    bob = library.add_resident(db, "Bob", birth_year=1930)
    bobs = add_song(db, bob.id, "Bob's song")
    bobs_play = add_play(db, bob.id, bobs, at(1, 9))
    with pytest.raises(LibraryError):
        reactions.record(db, mary.id, "smiled", play_id=bobs_play)
    with pytest.raises(LibraryError):
        reactions.record(db, mary.id, "smiled", song_id=bobs)
    with pytest.raises(LibraryError):
        reactions.record(db, mary.id, "thrilled")
    assert db.execute("SELECT COUNT(*) FROM reactions").fetchone()[0] == 0


def first_picks(db, rid, n=1500, seed=3) -> Counter:
    rng = random.Random(seed)
    return Counter(next_songs(db, rid, rng, length=1)[0] for _ in range(n))


def test_positive_reactions_lift_a_song_and_negative_ones_sink_it_in_the_next_queue(lib, mary):
    db = lib.db
    a, b, c = (add_song(db, mary.id, t, year=1953) for t in ("Lifted", "Sunk", "Same"))
    before = first_picks(db, mary.id)
    assert all(within(before[s], 1500, 1 / 3) for s in (a, b, c))
    for kind in ("smiled", "sang_along", "moved", "memory"):
        reactions.record(db, mary.id, kind, song_id=a)
    for kind in ("upset", "withdrawn"):
        reactions.record(db, mary.id, kind, song_id=b)
    after = first_picks(db, mary.id)
    # Four positive reactions double a song's weight (the most a lift gives); two negative
    # ones quarter it: weights 2, 0.25 and 1.
    assert within(after[a], 1500, 2 / 3.25)
    assert within(after[b], 1500, 0.25 / 3.25)
    assert within(after[c], 1500, 1 / 3.25)
    assert after[a] > before[a] and after[b] < before[b]


def test_two_upsets_suggest_never_play_to_staff_without_doing_it(lib, mary):
    db = lib.db
    sid = add_song(db, mary.id, "Sad song")
    other = add_song(db, mary.id, "Other")
    reactions.record(db, mary.id, "upset", song_id=sid)
    reactions.record(db, mary.id, "agitated", song_id=sid)
    reactions.record(db, mary.id, "upset", song_id=other)
    assert reactions.never_play_suggestions(db, mary.id) == []
    reactions.record(db, mary.id, "upset", song_id=sid)
    [suggestion] = reactions.never_play_suggestions(db, mary.id)
    assert (suggestion.song_id, suggestion.upsets) == (sid, 2)
    assert not library.resident_songs(db, mary.id)[1].never_play     # a suggestion only
    # Staff decide to keep it: no more suggestion until two new upsets.
    reactions.keep_playing(db, mary.id, sid)
    assert reactions.never_play_suggestions(db, mary.id) == []
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    reactions.record(db, mary.id, "upset", song_id=sid, at=later)
    assert reactions.never_play_suggestions(db, mary.id) == []
    reactions.record(db, mary.id, "upset", song_id=sid, at=later)
    assert [s.song_id for s in reactions.never_play_suggestions(db, mary.id)] == [sid]


def test_staff_only_notes_are_never_shown_to_family(lib, mary):
    db = lib.db
    sid = add_song(db, mary.id, "Song")
    staff_note = reactions.record(db, mary.id, "calmer", song_id=sid, by_role="staff", note="PRN not needed",
                                  note_staff_only=True)
    family_note = reactions.record(db, mary.id, "smiled", song_id=sid, by_role="family", note="Lovely visit")
    assert staff_note.visible_note(staff=True) == "PRN not needed"
    assert staff_note.visible_note(staff=False) == ""
    assert family_note.visible_note(staff=False) == "Lovely visit"


def test_only_staff_or_the_author_can_take_a_reaction_back(lib, mary):
    db = lib.db
    sid = add_song(db, mary.id, "Song")
    anne = accounts.create_user(db, "anne@family.example", "family-password-1", "family", resident_ids=[mary.id])
    r = reactions.record(db, mary.id, "smiled", song_id=sid, user_id=anne.id, by_role="family")
    with pytest.raises(LibraryError):
        reactions.remove(db, mary.id, r.id, user_id=anne.id + 1, staff=False)
    reactions.remove(db, mary.id, r.id, user_id=anne.id, staff=False)
    assert reactions.get(db, r.id, mary.id) is None
