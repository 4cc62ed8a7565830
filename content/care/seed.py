"""A month of made-up listening for a resident who has none, so a new box can show what the
care-plan report looks like (`python -m content demo --history`).

The month is the same every time for the same songs and end date (a seeded random
generator): a morning and an evening session most days, each about half an hour, songs
that bring smiles or singing, one that makes the resident restless until it is red-flagged
after a second upset, a few notes, and two keepers. It is written only for a resident with
no plays at all, so it can never mix with a real history.
"""
from __future__ import annotations

import datetime as _dt
import json
import random
from collections import Counter
from dataclasses import dataclass, field

import sqlite_utils

from content import library
from content.care import detective, reactions
from content.care.reactions import ReactionKind, Source
from content.db import LibraryError, write
from content.timestamps import utc_iso

SESSION_MINUTES = 30
# Per song, by its place in the resident's list: what a carer tends to see, and how often
# (per play). The fourth song is the one that unsettles.
PROFILES = [
    ((ReactionKind.SMILED, ReactionKind.SANG_ALONG), 0.10),
    ((ReactionKind.MOVED, ReactionKind.SMILED), 0.07),
    ((ReactionKind.MEMORY, ReactionKind.SMILED), 0.05),
    ((ReactionKind.AGITATED, ReactionKind.UPSET), 0.08),
    ((ReactionKind.CALMER,), 0.06),
]
NOTES = {
    ReactionKind.SANG_ALONG: ("Sang every word of the chorus with her daughter.", False),
    ReactionKind.MEMORY: ("Talked about dancing at the Palais on Saturday nights.", False),
    ReactionKind.UPSET: ("Tearful, asked where her husband was. Settled with a cup of tea.", True),
}


@dataclass
class Seeded:
    """What was written, to compare with the report."""

    start: _dt.date
    end: _dt.date
    plays: int = 0
    seconds: float = 0.0
    sessions: int = 0
    endings: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    red_flags: int = 0

    @property
    def minutes(self) -> float:
        return self.seconds / 60


def seed_month(db: sqlite_utils.Database, resident_id: int, *, end: _dt.date | None = None, days: int = 30,
               seed: int = 1952, tz: _dt.tzinfo | None = None) -> Seeded:
    """Write `days` days of history ending on `end` (default: yesterday, local time)."""
    tz = tz or _dt.datetime.now().astimezone().tzinfo or _dt.timezone.utc
    end = end or (_dt.datetime.now(tz).date() - _dt.timedelta(days=1))
    start = end - _dt.timedelta(days=days - 1)
    resident = library.get_resident(db, resident_id)
    songs = [(r[0], r[1], float(r[2])) for r in db.execute(
        "SELECT s.id, rs.title, s.duration FROM resident_songs rs JOIN songs s ON s.id = rs.song_id "
        "WHERE rs.resident_id = ? AND rs.never_play = 0 AND s.unplayable = 0 ORDER BY s.id", [resident_id])]
    if len(songs) < 2:
        raise LibraryError(f"{resident.name} needs at least two songs for a made-up month.")
    rng = random.Random(seed)
    out = Seeded(start, end)
    flagged: int | None = None
    upsets: Counter = Counter()
    with write(db):
        if db.execute("SELECT 1 FROM plays WHERE resident_id = ? LIMIT 1", [resident_id]).fetchone():
            raise LibraryError(f"{resident.name} already has listening history; a made-up month is only for "
                               "a resident without one.")
        for n in range(days):
            day = start + _dt.timedelta(days=n)
            starts = []
            if rng.random() < 0.85:
                starts.append(_dt.datetime.combine(day, _dt.time(10, rng.randrange(0, 40)), tz))
            if rng.random() < 0.7:
                starts.append(_dt.datetime.combine(day, _dt.time(18, rng.randrange(15, 55)), tz))
            for t in starts:
                flagged = _session(db, resident_id, songs, t, rng, out, upsets, flagged)
        keepers = Counter()
        for kind_row in db.execute("SELECT song_id, reaction FROM reactions WHERE resident_id = ?", [resident_id]):
            if ReactionKind(kind_row[1]).positive:
                keepers[kind_row[0]] += 1
        for song_id, _n in keepers.most_common(2):
            detective.set_status(db, resident_id, song_id, detective.Detective.KEEPER, by_role="staff")
    return out


def _session(db, resident_id: int, songs: list[tuple[int, str, float]], t: _dt.datetime, rng: random.Random,
             out: Seeded, upsets: Counter, flagged: int | None) -> int | None:
    if rng.random() < 0.2:
        length, how = rng.randrange(8, 25) * 60, "stopped"
    else:
        length, how = SESSION_MINUTES * 60, "session_end"
    clock, heard_total = t, 0.0
    out.sessions += 1
    while heard_total < length:
        choices = [s for s in songs if s[0] != flagged]
        song_id, title, duration = rng.choice(choices)
        profile_index = songs.index((song_id, title, duration)) % len(PROFILES)
        skip = profile_index == 3 and rng.random() < 0.3
        heard = 5.0 if skip else min(duration, length - heard_total)
        last = heard_total + heard >= length
        ended = "next" if skip else (how if last else "finished")
        play_id = db.execute(
            "INSERT INTO plays (resident_id, song_id, started_at, ended_at, seconds_heard, ended_how) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [resident_id, song_id, utc_iso(clock), utc_iso(clock + _dt.timedelta(seconds=heard)), heard, ended],
        ).lastrowid
        out.plays += 1
        out.seconds += heard
        kinds, chance = PROFILES[profile_index]
        if rng.random() < chance:
            kind = rng.choice(kinds)
            note, staff_only = NOTES.get(kind, ("", False)) if rng.random() < 0.3 else ("", False)
            at = clock + _dt.timedelta(seconds=heard / 2)
            reactions.record(db, resident_id, kind, play_id=play_id, by_role="staff", note=note,
                             note_staff_only=staff_only, source=Source.DEMO, at=utc_iso(at))
            out.kinds[kind] += 1
            if kind is ReactionKind.UPSET:
                upsets[song_id] += 1
                if upsets[song_id] >= reactions.UPSETS_TO_SUGGEST and flagged is None:
                    _red_flag(db, resident_id, song_id, at + _dt.timedelta(minutes=2))
                    out.red_flags += 1
                    flagged = song_id
                    ended, last = "red_flag", True
                    db.execute("UPDATE plays SET ended_how = 'red_flag' WHERE id = ?", [play_id])
        clock += _dt.timedelta(seconds=heard)
        heard_total += heard
        if last:
            out.endings[ended] += 1
            break
    return flagged


def _red_flag(db, resident_id: int, song_id: int, at: _dt.datetime) -> None:
    reason = "Upset twice; asked where her husband was."
    db.execute("UPDATE resident_songs SET never_play = 1, never_play_reason = ?, never_play_by_role = 'staff' "
               "WHERE resident_id = ? AND song_id = ?", [reason, resident_id, song_id])
    db.execute("INSERT INTO audit_log (at, action, resident_id, song_id, detail) VALUES (?, 'song.flags', ?, ?, ?)",
               [utc_iso(at), resident_id, song_id, json.dumps({"never_play": 1, "never_play_reason": reason})])
