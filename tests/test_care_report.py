"""The care-plan report: its figures match a known history exactly; the page's numbers, the
PDF (with its chart, seen through pdftoppm), the CSV and the command line say the same."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from content.care import detective, document, reactions, report, seed, table
from content.care.detective import Detective
from content.care.reactions import ReactionKind
from content.db import write
from content.timestamps import utc_iso
from tests.carekit import UTC, add_play, add_song, at

ROOT = Path(__file__).resolve().parent.parent
MAY_1, MAY_3 = dt.date(2026, 5, 1), dt.date(2026, 5, 3)


def flag(db, rid, sid, when, on, reason=""):
    with write(db):
        db.execute("INSERT INTO audit_log (at, action, resident_id, song_id, detail) VALUES (?, 'song.flags', ?, ?, ?)",
                   [utc_iso(when), rid, sid, json.dumps({"never_play": int(on), "never_play_reason": reason or None})])


@pytest.fixture
def history(lib, mary):
    """Three days of Mary's listening, in UTC, with things just outside the period."""
    db = lib.db
    a = add_song(db, mary.id, "Daisy Bell", "Harry Dacre")
    b = add_song(db, mary.id, "Moon River", "Andy Williams")
    c = add_song(db, mary.id, "Que Sera", "Doris Day")
    add_play(db, mary.id, a, at(30, 23, month=4))                        # the day before
    p1 = add_play(db, mary.id, a, at(1, 10, 0), 180)                    # session 1
    p2 = add_play(db, mary.id, b, at(1, 10, 3), 120)
    add_play(db, mary.id, c, at(1, 10, 5), 60, how="session_end")
    add_play(db, mary.id, a, at(1, 19, 0), 200, how="stopped")          # session 2
    p5 = add_play(db, mary.id, b, at(3, 9, 0), 150, how="next")          # session 3
    p6 = add_play(db, mary.id, a, at(3, 9, 3), 180, how="red_flag")
    add_play(db, mary.id, c, at(4, 0, 30))                               # the day after
    rec = lambda kind, play, when, **kw: reactions.record(db, mary.id, kind, play_id=play, at=utc_iso(when),  # noqa
                                                          by_role="staff", **kw)
    rec("smiled", p1, at(1, 10, 1))
    rec("sang_along", p1, at(1, 10, 2), note="Sang with her daughter")
    rec("upset", p2, at(1, 10, 4), note="Staff-only observation", note_staff_only=True)
    rec("calmer", p5, at(3, 9, 1))
    rec("asked_to_stop", p6, at(3, 9, 4))
    reactions.record(db, mary.id, "smiled", song_id=c, at=utc_iso(at(30, 22, month=4)))
    flag(db, mary.id, a, at(3, 9, 5), True, "Asked to stop twice")
    flag(db, mary.id, c, at(2, 12, 0), False)
    detective.set_status(db, mary.id, a, Detective.KEEPER)
    return {"a": a, "b": b, "c": c}


def test_the_figures_match_the_history_exactly(lib, mary, history):
    r = report.build(lib.db, mary.id, MAY_1, MAY_3, staff_view=True, tz=UTC)
    assert [(d.day.day, d.minutes, d.plays, d.sessions) for d in r.days] == [(1, 9.3, 4, 2), (2, 0.0, 0, 0),
                                                                              (3, 5.5, 2, 1)]
    assert round(r.total_minutes, 1) == 14.8
    assert r.days_with_music == 2
    assert [(s.start.hour, round(s.minutes, 2), s.plays, s.ended_how) for s in r.sessions] == [
        (10, 6.0, 3, "session_end"), (19, 3.33, 1, "stopped"), (9, 5.5, 2, "red_flag")]
    assert r.endings == {"session_end": 1, "stopped": 1, "red_flag": 1}
    assert r.kinds == {ReactionKind.SMILED: 1, ReactionKind.SANG_ALONG: 1, ReactionKind.CALMER: 1,
                       ReactionKind.UPSET: 1, ReactionKind.ASKED_TO_STOP: 1}
    assert (r.positive, r.negative) == (3, 2)
    assert [(d.day.day, d.positive, d.negative) for d in r.days] == [(1, 2, 1), (2, 0, 0), (3, 1, 1)]
    assert [(s.title, s.positive, s.negative) for s in r.top_songs] == [("Daisy Bell", 2, 1), ("Moon River", 1, 1)]
    assert [(f.at.day, f.title, f.reason, f.on) for f in r.red_flags] == [
        (2, "Que Sera", "", False), (3, "Daisy Bell", "Asked to stop twice", True)]
    assert r.detective == {Detective.TRYING: 2, Detective.KEEPER: 1, Detective.DROPPED: 0}
    assert [n.visible_note(staff=True) for n in r.notes] == ["Sang with her daughter", "Staff-only observation"]


def test_days_are_the_homes_local_days(lib, mary, history):
    # At UTC+10 the 19:00 UTC play of 1 May falls on 2 May, and 30 April's 23:00 on 1 May.
    r = report.build(lib.db, mary.id, MAY_1, MAY_3, staff_view=True, tz=dt.timezone(dt.timedelta(hours=10)))
    assert [d.minutes for d in r.days] == [9.0, 3.3, 5.5]


def test_family_see_no_staff_only_notes(lib, mary, history):
    r = report.build(lib.db, mary.id, MAY_1, MAY_3, staff_view=False, tz=UTC)
    assert [n.visible_note(staff=False) for n in r.notes] == ["Sang with her daughter"]
    assert "Staff-only observation" not in document.html(r)
    assert "Staff-only observation" not in table.reactions_csv(r)
    assert "Staff-only observation" in table.reactions_csv(
        report.build(lib.db, mary.id, MAY_1, MAY_3, staff_view=True, tz=UTC))


def test_the_csv_has_a_row_a_day_and_cannot_carry_a_formula(lib, mary, history):
    reactions.record(lib.db, mary.id, "smiled", song_id=history["a"], at=utc_iso(at(2, 8)),
                     note="=HYPERLINK(\"http://x\")")
    r = report.build(lib.db, mary.id, MAY_1, MAY_3, staff_view=True, tz=UTC)
    rows = list(csv.DictReader(io.StringIO(table.days_csv(r))))
    assert [(x["date"], x["minutes_listened"], x["sessions"], x["positive_total"], x["upset"], x["red_flags"])
            for x in rows] == [("2026-05-01", "9.3", "2", "2", "1", "0"), ("2026-05-02", "0.0", "0", "1", "0", "0"),
                               ("2026-05-03", "5.5", "1", "1", "0", "1")]
    notes = [x["note"] for x in csv.DictReader(io.StringIO(table.reactions_csv(r)))]
    assert "'=HYPERLINK(\"http://x\")" in notes


@pytest.mark.parametrize("start,end", [("2026-05-03", "2026-05-01"), ("2020-01-01", "2026-05-01")])
def test_a_period_that_makes_no_sense_is_refused(start, end):
    with pytest.raises(report.LibraryError):
        report.period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def bar_pixels(png: Path, colour=(0x1F, 0x5F, 0x3F)) -> int:
    """How many pixels of the minutes chart's bar colour the page shows."""
    img = Image.open(png).convert("RGB")
    return sum(1 for px in img.get_flattened_data() if all(abs(a - b) <= 24 for a, b in zip(px, colour)))


def test_the_pdf_renders_and_its_first_page_shows_the_chart(lib, mary, history, tmp_path):
    r = report.build(lib.db, mary.id, MAY_1, MAY_3, staff_view=True, tz=UTC)
    pdf = document.pdf(r)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True, timeout=60)
    [page] = sorted(tmp_path.glob("page*.png"))
    assert bar_pixels(page) > 2000
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Music care report: Mary" in text and "Minutes listened per day" in text
    assert "Asked to stop twice" in text and "Daisy Bell" in text
    # Without any music there are no bars to see: the check above is about the chart.
    empty = report.build(lib.db, mary.id, dt.date(2025, 1, 1), dt.date(2025, 1, 3), staff_view=True, tz=UTC)
    (tmp_path / "empty.pdf").write_bytes(document.pdf(empty))
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(tmp_path / "empty.pdf"),
                    str(tmp_path / "none")], check=True, timeout=60)
    assert bar_pixels(next(tmp_path.glob("none*.png"))) < 500   # the figures' edges only


def test_the_command_line_writes_the_pdf_and_csv(lib, mary, history, tmp_path):
    env = dict(os.environ, TZ="UTC")
    out = subprocess.run(
        [sys.executable, "-m", "content", "report", "--db", str(lib.db_path), "--resident", "mary",
         "--from", "2026-05-01", "--to", "2026-05-03", "--pdf", str(tmp_path / "r.pdf"), "--csv", str(tmp_path / "d.csv")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Listened 15 minutes on 2 days" in out.stdout and "in 3 sessions" in out.stdout
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert "2026-05-01,9.3,4,2," in (tmp_path / "d.csv").read_text()
    bad = subprocess.run([sys.executable, "-m", "content", "report", "--db", str(lib.db_path), "--resident", "Mary",
                          "--from", "May 1st"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "like 2026-05-01" in bad.stderr


def test_a_seeded_month_reads_back_as_it_was_written(lib, mary):
    for i in range(5):
        add_song(lib.db, mary.id, f"Song {i}")
    made = seed.seed_month(lib.db, mary.id, end=dt.date(2026, 5, 30), tz=UTC)
    r = report.build(lib.db, mary.id, made.start, made.end, staff_view=True, tz=UTC)
    assert len(r.sessions) == made.sessions
    assert sum(d.plays for d in r.days) == made.plays
    assert abs(r.total_minutes - made.minutes) < 0.05 * len(r.days)
    assert dict(r.kinds) == dict(made.kinds)
    assert r.endings == dict(made.endings)
    assert len([f for f in r.red_flags if f.on]) == made.red_flags == 1
    assert r.detective[Detective.KEEPER] == 2
    # Never over a real history.
    with pytest.raises(report.LibraryError):
        seed.seed_month(lib.db, mary.id, end=dt.date(2026, 6, 30), tz=UTC)
