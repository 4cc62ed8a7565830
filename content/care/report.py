"""The care-plan report: what one resident's music did over a chosen period.

`build` reads the figures once, as plain values that the page, the PDF, the CSV and the
command line all show the same way: minutes listened per day, sessions and how they ended,
reactions by kind over time, the songs with the most positive reactions, red flags with
when and why, and the music detective's counts.

Days are the box's local days (the home's clock), so "Tuesday" on the report is the Tuesday
the staff remember; the library keeps UTC. A session is a run of plays with no more than
`SESSION_GAP` between one song's end and the next one's start; it ended the way its last
song did.
"""
from __future__ import annotations

import datetime as _dt
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from content import library
from content.care import detective, reactions
from content.care.detective import Detective
from content.care.reactions import Reaction, ReactionKind
from content.db import LibraryError
from content.plays import PlayEnd
from content.timestamps import utc_iso

SESSION_GAP = _dt.timedelta(minutes=10)
MAX_DAYS = 366 * 2
TOP_SONGS = 10

# How a session ended, from how its last song ended.
SESSION_END_WORDS = {
    PlayEnd.SESSION_END: "The session's time was up",
    PlayEnd.STOPPED: "Stopped with the button",
    PlayEnd.RED_FLAG: "A song was red-flagged",
    PlayEnd.REMOVED: "A song was taken away",
    PlayEnd.POWER_CUT: "The power went off",
    PlayEnd.ERROR: "A song could not play",
    PlayEnd.FINISHED: "The music ran out",
    PlayEnd.NEXT: "Stopped after a skip",
    PlayEnd.PREVIOUS: "Stopped after going back",
    None: "Still playing",
}


@dataclass(frozen=True)
class Day:
    day: _dt.date
    minutes: float
    plays: int
    sessions: int
    kinds: dict[ReactionKind, int]

    @property
    def positive(self) -> int:
        return sum(n for k, n in self.kinds.items() if k.positive)

    @property
    def negative(self) -> int:
        return sum(n for k, n in self.kinds.items() if not k.positive)


@dataclass(frozen=True)
class Session:
    start: _dt.datetime          # local
    end: _dt.datetime
    minutes: float               # heard, not the clock
    plays: int
    ended_how: str | None

    @property
    def ended_words(self) -> str:
        return SESSION_END_WORDS.get(self.ended_how, self.ended_how or "")


@dataclass(frozen=True)
class SongRow:
    song_id: int | None
    title: str
    artist: str
    positive: int
    negative: int


@dataclass(frozen=True)
class RedFlag:
    at: _dt.datetime             # local
    title: str
    artist: str
    reason: str
    by: str                      # "staff", "family" or "" when not known
    on: bool                     # False: the flag was lifted


@dataclass(frozen=True)
class Report:
    resident: library.Resident
    start: _dt.date
    end: _dt.date                # inclusive
    days: list[Day]
    sessions: list[Session]
    reactions: list[Reaction]
    top_songs: list[SongRow]
    red_flags: list[RedFlag]
    detective: dict[Detective, int]
    staff_view: bool
    made_at: _dt.datetime
    tz: _dt.tzinfo = _dt.timezone.utc
    endings: dict[str, int] = field(default_factory=dict)

    def local(self, stamp: str) -> _dt.datetime:
        """A stored UTC time as the home's clock showed it."""
        return _local(stamp, self.tz)

    @property
    def total_minutes(self) -> float:
        return sum(d.minutes for d in self.days)

    @property
    def days_with_music(self) -> int:
        return sum(1 for d in self.days if d.minutes > 0)

    @property
    def average_minutes(self) -> float:
        """Per day in the period, days without music included."""
        return self.total_minutes / len(self.days) if self.days else 0.0

    @property
    def kinds(self) -> dict[ReactionKind, int]:
        total: Counter = Counter()
        for d in self.days:
            total.update(d.kinds)
        return {k: total[k] for k in ReactionKind if total[k]}

    @property
    def positive(self) -> int:
        return sum(d.positive for d in self.days)

    @property
    def negative(self) -> int:
        return sum(d.negative for d in self.days)

    @property
    def notes(self) -> list[Reaction]:
        """Reactions with a note this reader may see."""
        return [r for r in self.reactions if r.visible_note(staff=self.staff_view)]


class PeriodError(LibraryError):
    """A report period that cannot be read or makes no sense; the message says which."""


def parse_day(text: str | None, what: str = "date") -> _dt.date:
    try:
        return _dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise PeriodError(f"Please give the {what} like 2026-05-01.") from None


def period(start: _dt.date | None, end: _dt.date | None, *, today: _dt.date | None = None,
           default_days: int = 30) -> tuple[_dt.date, _dt.date]:
    """A checked period: the last `default_days` days up to today when not given."""
    today = today or _dt.date.today()
    end = end or today
    start = start or end - _dt.timedelta(days=default_days - 1)
    if start > end:
        raise PeriodError("The period starts after it ends.")
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError(f"A report covers at most {MAX_DAYS} days.")
    return start, end


def _bounds(start: _dt.date, end: _dt.date, tz: _dt.tzinfo) -> tuple[str, str]:
    """UTC text bounds of the local days `start`..`end` inclusive."""
    lo = _dt.datetime.combine(start, _dt.time(), tz)
    hi = _dt.datetime.combine(end + _dt.timedelta(days=1), _dt.time(), tz)
    return utc_iso(lo), utc_iso(hi)


def _local(text: str, tz: _dt.tzinfo) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(tz)


def local_zone() -> _dt.tzinfo:
    return _dt.datetime.now().astimezone().tzinfo or _dt.timezone.utc


def _sessions(plays: list[tuple], tz: _dt.tzinfo) -> list[Session]:
    out: list[Session] = []
    run: list[tuple[_dt.datetime, _dt.datetime, float, str | None]] = []

    def close() -> None:
        if run:
            out.append(Session(run[0][0], max(r[1] for r in run), sum(r[2] for r in run) / 60, len(run), run[-1][3]))
            run.clear()

    for started, ended, heard, how in plays:
        s = _local(started, tz)
        e = _local(ended, tz) if ended else s + _dt.timedelta(seconds=heard or 0)
        if run and s - max(r[1] for r in run) > SESSION_GAP:
            close()
        run.append((s, e, float(heard or 0), how))
    close()
    return out


def _red_flags(db: sqlite_utils.Database, resident_id: int, lo: str, hi: str, tz: _dt.tzinfo) -> list[RedFlag]:
    """When a song was marked never to play (or the mark lifted), and why, from the audit log."""
    rows = db.execute(
        """SELECT a.at, a.detail, COALESCE(rs.title, s.title), COALESCE(rs.artist, s.artist), u.role
           FROM audit_log a LEFT JOIN songs s ON s.id = a.song_id
           LEFT JOIN resident_songs rs ON rs.song_id = a.song_id AND rs.resident_id = a.resident_id
           LEFT JOIN users u ON u.id = a.user_id
           WHERE a.resident_id = ? AND a.action = 'song.flags' AND a.at >= ? AND a.at < ?
             AND json_extract(a.detail, '$.never_play') IS NOT NULL
           ORDER BY a.at, a.id""", [resident_id, lo, hi]).fetchall()
    out = []
    for at, detail, title, artist, role in rows:
        d = json.loads(detail or "{}")
        out.append(RedFlag(_local(at, tz), title or "A song since removed", artist or "",
                           (d.get("never_play_reason") or "") if d.get("never_play") else "", role or "",
                           bool(d.get("never_play"))))
    return out


def build(db: sqlite_utils.Database, resident_id: int, start: _dt.date, end: _dt.date, *,
          staff_view: bool, tz: _dt.tzinfo | None = None, now: _dt.datetime | None = None) -> Report:
    tz = tz or local_zone()
    start, end = period(start, end, today=end)
    resident = library.get_resident(db, resident_id)
    lo, hi = _bounds(start, end, tz)
    plays = db.execute(
        "SELECT started_at, ended_at, seconds_heard, ended_how FROM plays "
        "WHERE resident_id = ? AND started_at >= ? AND started_at < ? ORDER BY started_at, id",
        [resident_id, lo, hi]).fetchall()
    sessions = _sessions(plays, tz)
    in_period = reactions.in_period(db, resident_id, lo, hi)

    n_days = (end - start).days + 1
    minutes = {start + _dt.timedelta(days=i): 0.0 for i in range(n_days)}
    play_counts: Counter = Counter()
    for started, _ended, heard, _how in plays:
        day = _local(started, tz).date()
        minutes[day] += float(heard or 0) / 60
        play_counts[day] += 1
    session_counts = Counter(s.start.date() for s in sessions)
    kinds: dict[_dt.date, Counter] = {d: Counter() for d in minutes}
    for r in in_period:
        kinds[_local(r.at, tz).date()][r.kind] += 1
    days = [Day(d, round(minutes[d], 1), play_counts[d], session_counts[d], dict(kinds[d])) for d in minutes]

    songs: dict[int | None, list] = {}
    for r in in_period:
        if r.song_id is None:
            continue
        row = songs.setdefault(r.song_id, [r.title or "A song since removed", r.artist or "", 0, 0])
        row[2 if r.kind.positive else 3] += 1
    top = sorted((SongRow(sid, *v) for sid, v in songs.items() if v[2] > 0),
                 key=lambda s: (-s.positive, s.negative, s.title.casefold()))[:TOP_SONGS]

    return Report(
        resident=resident, start=start, end=end, days=days, sessions=sessions, reactions=in_period,
        top_songs=top, red_flags=_red_flags(db, resident_id, lo, hi, tz),
        detective=detective.counts(db, resident_id), staff_view=staff_view,
        made_at=(now or _dt.datetime.now(tz)).astimezone(tz), tz=tz,
        endings=dict(Counter(s.ended_how for s in sessions)),
    )


def summary_lines(report: Report) -> list[str]:
    """The report's headline figures in plain sentences (the command line prints these)."""
    r = report
    lines = [
        f"{r.resident.name}: {r.start.isoformat()} to {r.end.isoformat()} ({len(r.days)} days)",
        f"Listened {r.total_minutes:.0f} minutes on {r.days_with_music} days "
        f"(on average {r.average_minutes:.1f} minutes a day), in {len(r.sessions)} sessions.",
        f"Reactions: {r.positive} positive, {r.negative} negative.",
    ]
    for kind, n in r.kinds.items():
        lines.append(f"  {kind.words}: {n}")
    if r.endings:
        lines.append("Sessions ended: " + "; ".join(f"{SESSION_END_WORDS.get(k, str(k)).lower()} {n}" for k, n in
                                                    sorted(r.endings.items(), key=lambda kv: -kv[1])) + ".")
    if r.top_songs:
        lines.append("Songs that helped most: " + "; ".join(
            f"{s.title} ({s.positive} positive)" for s in r.top_songs[:5]) + ".")
    flags = [f for f in r.red_flags if f.on]
    lines.append(f"Red flags: {len(flags)}.")
    for f in flags:
        lines.append(f"  {f.at:%Y-%m-%d %H:%M} {f.title}" + (f": {f.reason}" if f.reason else ""))
    lines.append("Music detective: " + ", ".join(f"{n} {d.words.lower()}" for d, n in r.detective.items()) + ".")
    return lines


def as_dict(report: Report) -> dict[str, Any]:
    """The figures as plain JSON values (for the export)."""
    return {
        "resident": report.resident.name,
        "from": report.start.isoformat(), "to": report.end.isoformat(),
        "total_minutes": round(report.total_minutes, 1),
        "days": [{"day": d.day.isoformat(), "minutes": d.minutes, "plays": d.plays, "sessions": d.sessions,
                  "reactions": {str(k): n for k, n in d.kinds.items()}} for d in report.days],
        "sessions": [{"start": s.start.isoformat(), "end": s.end.isoformat(), "minutes": round(s.minutes, 1),
                      "plays": s.plays, "ended": s.ended_how} for s in report.sessions],
        "top_songs": [{"title": s.title, "artist": s.artist, "positive": s.positive, "negative": s.negative}
                      for s in report.top_songs],
        "red_flags": [{"at": f.at.isoformat(), "title": f.title, "reason": f.reason, "on": f.on}
                      for f in report.red_flags],
        "detective": {str(k): n for k, n in report.detective.items()},
    }
