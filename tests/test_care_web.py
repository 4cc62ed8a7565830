"""The care loop in the admin (the real app on a real library): a reaction in one tap, the
red flag offered at once after a hard one, family and staff each seeing what is theirs, the
report's page, charts, PDF and CSV, times of day, the detective, export and deletion."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from content import library
from content.care import modes, reactions
from tests.carekit import add_play
from tests.test_web_fixtures import add_song, world  # noqa: F401


@pytest.fixture
def played(world, lib, tmp_path):
    world.songs["daisy"] = add_song(world, lib, world.mary, 440, "Daisy Bell", "Harry Dacre", "1892", tmp=tmp_path)
    world.songs["moon"] = add_song(world, lib, world.mary, 550, "Moon River", "Andy Williams", "1961", tmp=tmp_path)
    now = dt.datetime.now(dt.timezone.utc)
    world.plays = {"moon": add_play(lib.db, world.mary.id, world.songs["moon"], now - dt.timedelta(minutes=8)),
                   "daisy": add_play(lib.db, world.mary.id, world.songs["daisy"], now - dt.timedelta(minutes=2),
                                     how=None)}
    return world


def page(resp) -> str:
    return resp.get_data(as_text=True)


def test_one_tap_logs_a_reaction_to_the_song_playing_now(played, lib):
    c = played.client(played.mary_family)
    text = page(c.get(f"/residents/{played.mary.id}"))
    assert "How is Mary with “Daisy Bell”?" in text and "Playing now" in text
    resp = c.post(f"/residents/{played.mary.id}/reactions",
                  {"kind": "sang_along", "play_id": played.plays["daisy"], "song_id": played.songs["daisy"]})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/residents/{played.mary.id}#reactions")
    assert "Logged: Mary sang along during “Daisy Bell”." in page(c.get(resp.headers["Location"]))
    [r] = reactions.recent(lib.db, played.mary.id)
    assert (r.kind, r.song_id, r.play_id, r.by_role, r.user_id) == ("sang_along", played.songs["daisy"],
                                                                    played.plays["daisy"], "family",
                                                                    played.mary_family.id)


def test_an_earlier_song_takes_a_tap_to_choose_and_a_tap_to_log(played, lib):
    c = played.client(played.staff)
    text = page(c.get(f"/residents/{played.mary.id}"))
    link = f"/residents/{played.mary.id}/react?play={played.plays['moon']}"
    assert f'href="{link}"' in text
    assert "How was Mary with “Moon River”?" in page(c.get(link))
    c.post(f"/residents/{played.mary.id}/reactions", {"kind": "memory", "play_id": played.plays["moon"],
                                                      "song_id": played.songs["moon"]})
    assert reactions.recent(lib.db, played.mary.id)[0].song_id == played.songs["moon"]


def test_a_hard_reaction_offers_the_red_flag_at_once(played, lib):
    c = played.client(played.staff)
    resp = c.post(f"/residents/{played.mary.id}/reactions",
                  {"kind": "upset", "play_id": played.plays["daisy"], "song_id": played.songs["daisy"],
                   "note": "Cried for her sister", "staff_only": "1"})
    assert resp.status_code == 302
    offer = page(c.get(resp.headers["Location"]))
    assert "Logged: Mary was upset" in offer and "Stop it and never play it again" in offer
    flag = c.post(f"/residents/{played.mary.id}/songs/{played.songs['daisy']}/never-play",
                  {"never_play": "1", "reason": "Upset: Cried for her sister", "back": "list"})
    assert flag.status_code == 302
    daisy = [s for s in library.resident_songs(lib.db, played.mary.id) if s.title == "Daisy Bell"][0]
    assert daisy.never_play
    row = lib.db.execute("SELECT never_play_reason, never_play_by_role FROM resident_songs WHERE song_id = ?",
                         [played.songs["daisy"]]).fetchone()
    assert tuple(row) == ("Upset: Cried for her sister", "staff")


def test_family_never_see_staff_only_notes(played, lib):
    reactions.record(lib.db, played.mary.id, "calmer", song_id=played.songs["moon"], by_role="staff",
                     note="Refused lunch earlier", note_staff_only=True)
    reactions.record(lib.db, played.mary.id, "smiled", song_id=played.songs["moon"], by_role="family",
                     note="Lovely visit")
    staff, family = played.client(played.staff), played.client(played.mary_family)
    base = f"/residents/{played.mary.id}"
    for url in (base, base + "/report", base + "/report-reactions.csv"):
        assert "Refused lunch earlier" in page(staff.get(url)), url
        seen = page(family.get(url))
        assert "Refused lunch earlier" not in seen and "Lovely visit" in seen, url
    assert "Family copy" in page(family.get(base + "/report"))


def test_the_report_page_its_charts_pdf_and_csv(played, lib):
    reactions.record(lib.db, played.mary.id, "smiled", song_id=played.songs["moon"], by_role="staff")
    c = played.client(played.mary_family)
    today = dt.date.today()
    args = f"from={(today - dt.timedelta(days=6)).isoformat()}&to={today.isoformat()}"
    text = page(c.get(f"/residents/{played.mary.id}/report?{args}"))
    for chart in ("minutes", "reactions", "songs"):
        assert f"/residents/{played.mary.id}/report/{chart}.svg?" in text
    svg = c.get(f"/residents/{played.mary.id}/report/minutes.svg?{args}")
    assert svg.mimetype == "image/svg+xml" and page(svg).lstrip().startswith("<?xml")
    assert "script-src" not in svg.headers["Content-Security-Policy"] and "default-src 'none'" in \
        svg.headers["Content-Security-Policy"]
    pdf = c.get(f"/residents/{played.mary.id}/report.pdf?{args}")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    days = page(c.get(f"/residents/{played.mary.id}/report-days.csv?{args}"))
    assert days.splitlines()[0].startswith("date,minutes_listened") and len(days.splitlines()) == 8
    bad = c.get(f"/residents/{played.mary.id}/report?from=yesterday")
    assert bad.status_code == 400 and "like 2026-05-01" in page(bad)
    assert c.get(f"/residents/{played.mary.id}/report/other.svg").status_code == 404


def test_two_upsets_are_put_to_staff_not_to_family(played, lib):
    for _ in range(2):
        reactions.record(lib.db, played.mary.id, "upset", song_id=played.songs["moon"], by_role="family")
    assert "upset Mary 2 times" in page(played.client(played.staff).get(f"/residents/{played.mary.id}"))
    assert "upset Mary 2 times" not in page(played.client(played.mary_family).get(f"/residents/{played.mary.id}"))
    played.client(played.staff).get("/")
    staff = played.client(played.staff)
    staff.get(f"/residents/{played.mary.id}")
    staff.post(f"/residents/{played.mary.id}/songs/{played.songs['moon']}/keep")
    assert "upset Mary 2 times" not in page(staff.get(f"/residents/{played.mary.id}"))
    assert not [s for s in library.resident_songs(lib.db, played.mary.id) if s.never_play]


def test_times_of_day_are_set_by_staff_and_seen_by_family(played, lib):
    staff, family = played.client(played.staff), played.client(played.mary_family)
    base = f"/residents/{played.mary.id}"
    staff.get(base + "/times")
    staff.post(base + "/times", {"mode": "calm", "start": "19:30", "end": "22:00"})
    staff.post(base + f"/songs/{played.songs['moon']}/feel", {"feel": "calm"})
    assert [w.words for w in modes.schedule(lib.db, played.mary.id)] == ["Calm, 19:30 to 22:00"]
    assert lib.db.execute("SELECT feel FROM resident_songs WHERE song_id = ?", [played.songs["moon"]]).fetchone()[0] \
        == "calm"
    text = page(family.get(base + "/times"))
    assert "Calm, 19:30 to 22:00" in text and "Add a time" not in text
    assert family.post(base + "/times", {"mode": "steady_beat", "start": "10:00", "end": "11:00"}).status_code == 403
    assert len(modes.schedule(lib.db, played.mary.id)) == 1
    bad = staff.post(base + "/times", {"mode": "calm", "start": "late", "end": "22:00"})
    assert "like 19:30" in page(staff.get(bad.headers["Location"]))


def test_before_a_care_task_says_plainly_when_the_kiosk_is_off(played):
    staff = played.client(played.staff)
    staff.get(f"/residents/{played.mary.id}/times")
    resp = staff.post(f"/residents/{played.mary.id}/care-task")
    assert "The kiosk is not running" in page(staff.get(resp.headers["Location"]))
    family = played.client(played.mary_family)
    assert family.post(f"/residents/{played.mary.id}/care-task").status_code == 403


def test_family_set_a_songs_detective_status(played, lib):
    c = played.client(played.mary_family)
    text = page(c.get(f"/residents/{played.mary.id}/detective"))
    assert "Music detective: Mary" in text
    c.post(f"/residents/{played.mary.id}/songs/{played.songs['moon']}/detective", {"status": "keeper"})
    row = lib.db.execute("SELECT detective, detective_by_role FROM resident_songs WHERE song_id = ?",
                         [played.songs["moon"]]).fetchone()
    assert tuple(row) == ("keeper", "family")
    assert c.post(f"/residents/{played.mary.id}/songs/{played.songs['moon']}/detective",
                  {"status": "forever"}).status_code == 400


def test_staff_export_and_then_delete_a_resident_with_the_name_typed_again(played, lib):
    staff = played.client(played.staff)
    base = f"/residents/{played.mary.id}"
    assert "Yes, download it" in page(staff.get(base + "/export"))
    resp = staff.post(base + "/export")
    assert resp.mimetype == "application/zip" and "attachment" in resp.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(resp.data)) as z:
        assert {"resident.json", "report.pdf"} <= set(z.namelist())
    assert not any((played.data / "export-tmp").iterdir())
    family = played.client(played.mary_family)
    assert family.get(base + "/delete").status_code == 403
    staff.get(base + "/delete")
    wrong = staff.post(base + "/delete", {"name": "Marie"})
    assert wrong.status_code == 400 and "does not match" in page(wrong)
    assert library.find_resident(lib.db, "Mary") is not None
    staff.get(base + "/delete")
    done = staff.post(base + "/delete", {"name": "mary"})
    assert done.status_code == 302
    assert library.find_resident(lib.db, "Mary") is None
    assert "Mary is deleted" in page(staff.get("/"))
