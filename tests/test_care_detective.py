"""The music detective: trying, keeper or dropped, suggested from reactions, plays and early
skips, and the review lists."""
from __future__ import annotations

import pytest

from content.care import detective, reactions
from content.care.detective import Detective, Evidence, suggest
from content.db import LibraryError
from tests.carekit import add_play, add_song, at


def ev(status="trying", **kw) -> Evidence:
    return Evidence(song_id=1, title="T", artist="A", year=1955, status=Detective(status), favourite=False, **kw)


@pytest.mark.parametrize("record,wanted", [
    (ev(positive=2), Detective.KEEPER),
    (ev(positive=2, negative=1), Detective.KEEPER),
    (ev(positive=2, negative=2), None),                       # mixed: a person should look
    (ev(positive=1), None),
    (ev(negative=2), Detective.DROPPED),
    (ev(negative=2, positive=1), None),                       # one good moment: keep trying
    (ev(plays=6, early_skips=3), Detective.DROPPED),
    (ev(plays=6, early_skips=3, positive=1), None),
    (ev(plays=4, early_skips=3), None),
    (ev("keeper", positive=5), None),                         # already a keeper
    (ev("dropped", positive=3), Detective.KEEPER),            # it helps after all
])
def test_suggestions_follow_the_record(record, wanted):
    assert suggest(record) is wanted


def test_status_is_set_by_a_person_and_counted(lib, mary):
    db = lib.db
    a = add_song(db, mary.id, "A")
    add_song(db, mary.id, "B")
    detective.set_status(db, mary.id, a, "keeper", by_role="family")
    assert detective.counts(db, mary.id) == {Detective.TRYING: 1, Detective.KEEPER: 1, Detective.DROPPED: 0}
    row = db.execute("SELECT detective, detective_by_role FROM resident_songs WHERE song_id = ?", [a]).fetchone()
    assert tuple(row) == ("keeper", "family")
    with pytest.raises(LibraryError):
        detective.set_status(db, mary.id, a, "maybe")


def test_the_review_lists_what_needs_a_persons_eye(lib, mary):
    db = lib.db   # Mary was born in 1938: her teenage years are 1951-1957
    helps = add_song(db, mary.id, "Helps", year=1940)
    never_helps = add_song(db, mary.id, "Never helps", year=1940)
    skipped = add_song(db, mary.id, "Skipped", year=1940)
    teen_untried = add_song(db, mary.id, "Teen untried", year=1954)
    add_song(db, mary.id, "Old untried", year=1930)
    for day in range(1, 7):
        add_play(db, mary.id, never_helps, at(day, 10))
        add_play(db, mary.id, skipped, at(day, 11), seconds=4, how="next")
    add_play(db, mary.id, helps, at(1, 12))
    reactions.record(db, mary.id, "sang_along", song_id=helps)
    reactions.record(db, mary.id, "memory", song_id=helps)
    found = detective.review(db, mary.id)
    assert [(e.song_id, s) for e, s in found.suggestions] == [(helps, Detective.KEEPER), (skipped, Detective.DROPPED)]
    assert [e.song_id for e in found.no_help] == [never_helps, skipped]
    assert [e.song_id for e in found.skipped] == [skipped]
    assert [e.song_id for e in found.untried_teens] == [teen_untried]
    assert found.counts[Detective.TRYING] == 5
