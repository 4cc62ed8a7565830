"""The report as CSV, for a spreadsheet or a care-records system: one row per day, and one
row per reaction.

A cell that a spreadsheet would run as a formula (starting with = + - @) gets a leading
apostrophe: a note is typed by a person and must stay text.
"""
from __future__ import annotations

import csv
import io

from content.care.reactions import ReactionKind
from content.care.report import Report

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _write(rows: list[list]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue()


def days_csv(report: Report) -> str:
    kinds = list(ReactionKind)
    rows: list[list] = [["date", "minutes_listened", "plays", "sessions", "positive_total", "negative_total", "red_flags",
                         *[k.value for k in kinds]]]
    flags: dict = {}
    for f in report.red_flags:
        if f.on:
            flags[f.at.date()] = flags.get(f.at.date(), 0) + 1
    for d in report.days:
        rows.append([d.day.isoformat(), f"{d.minutes:.1f}", d.plays, d.sessions, d.positive, d.negative,
                     flags.get(d.day, 0), *[d.kinds.get(k, 0) for k in kinds]])
    return _write(rows)


def reactions_csv(report: Report) -> str:
    rows: list[list] = [["time", "reaction", "positive", "song", "artist", "logged_by", "note"]]
    for r in report.reactions:
        rows.append([report.local(r.at).isoformat(timespec="minutes"), r.kind.value, "yes" if r.kind.positive else "no",
                     r.title or "", r.artist or "", r.by_role or r.source, r.visible_note(staff=report.staff_view)])
    return _write(rows)
