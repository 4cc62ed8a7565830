"""The care loop in the real kiosk (real libvlc, real library, the fake GPIO module): a
staff button logs "something good" for the song playing, the time of day shapes the queue,
and "before a care task" plays calming keepers and stops when its time is up."""
from __future__ import annotations

import datetime as dt

from content import control
from content.care import modes, reactions
from tests.pcm import PcmMeter
from tests.test_kiosk_session import kiosks  # noqa: F401  (the kiosks it starts are stopped after)
from tests.test_kiosk_support import GPIO, add_song, click, config, wait_for

GOOD_PIN = 24


def status(k):
    return k.controller.status(timeout=10)


def plays(lib):
    return [tuple(r) for r in lib.db.execute("SELECT id, song_id, ended_how FROM plays ORDER BY id")]


def with_good_button(lib, **overrides):
    """The usual buttons and one more, for staff sitting with the resident."""
    buttons = {"play": {"gpio": 17, "press": "play"}, "next": {"gpio": 27, "press": "next"},
               "good": {"gpio": GOOD_PIN, "press": "react"}}
    return config(lib, buttons=buttons, gpio={"enabled": "on", "ready_led": -1, "playing_led": -1}, **overrides)


def test_a_staff_button_logs_something_good_for_the_song_playing(lib, mary, kiosks):
    song = add_song(lib, mary, 440, 20)
    GPIO.cleanup()
    k = kiosks(with_good_button(lib), PcmMeter(), GPIO)
    click(GOOD_PIN)                                       # nothing playing: nothing to log
    k.controller.press("play")
    wait_for(lambda: status(k)["song"], what="music")
    click(GOOD_PIN)
    [logged] = wait_for(lambda: reactions.recent(lib.db, mary.id), what="the reaction")
    (play_id, _, _), = plays(lib)
    assert (logged.kind, logged.song_id, logged.play_id, logged.source) == ("positive", song, play_id, "box")
    row = lib.db.execute("SELECT reactions_positive FROM resident_songs WHERE song_id = ?", [song]).fetchone()
    assert row[0] == 1
    assert status(k)["state"] == "playing", "the music goes on"


def test_the_time_of_day_shapes_what_plays_next(lib, mary, kiosks):
    calm = {add_song(lib, mary, f, 3, title=f"Lullaby {f}") for f in (300, 350, 400, 450, 500)}
    lively = {add_song(lib, mary, f, 3, title=f"Jive {f}") for f in (700, 800, 900)}
    for sid in calm:
        modes.set_feel(lib.db, mary.id, sid, modes.Feel.CALM)
    for sid in lively:
        modes.set_feel(lib.db, mary.id, sid, modes.Feel.STEADY)
    now = dt.datetime.now().astimezone()
    start, end = (now - dt.timedelta(hours=1)).strftime("%H:%M"), (now + dt.timedelta(hours=1)).strftime("%H:%M")
    modes.add_window(lib.db, mary.id, modes.make_window("calm", start, end))
    k = kiosks(config(lib, volume={"start": 65, "cap": 70}), PcmMeter())
    st = status(k)
    assert st["mode"] == "calm"
    assert st["volume_cap"] == round(70 * 0.85) and st["volume"] <= st["volume_cap"], "calm music is softer"
    k.controller.press("play")
    wait_for(lambda: len(plays(lib)) >= 6, timeout=40, what="six songs")
    assert {p[1] for p in plays(lib)} <= calm
    # The window taken away: the usual music comes back without a restart.
    modes.remove_window(lib.db, mary.id, 0)
    st = wait_for(lambda: (s := status(k))["mode"] == "usual" and s, what="the usual music")
    assert st["volume_cap"] == 70 and st["volume"] <= round(70 * 0.85), "the cap goes back up, the music does not"


def test_before_a_care_task_calming_keepers_play_then_stop_when_the_time_is_up(lib, mary, kiosks):
    keepers = {add_song(lib, mary, f, 3, title=f"Keeper {f}") for f in (300, 360)}
    others = {add_song(lib, mary, f, 3, title=f"Other {f}") for f in (600, 700, 800, 900)}
    for sid in keepers:
        modes.set_feel(lib.db, mary.id, sid, modes.Feel.CALM)
        lib.db.execute("UPDATE resident_songs SET detective = 'keeper' WHERE song_id = ?", [sid])
    for sid in others:
        modes.set_feel(lib.db, mary.id, sid, modes.Feel.STEADY)
    lib.db.conn.commit()
    k = kiosks(config(lib, session={"care_task_minutes": 0.2, "minutes": 30}), PcmMeter())
    k.controller.press("play")
    wait_for(lambda: status(k)["song"], what="music")
    before = len(plays(lib))
    reply = control.press(k.config.socket_path, "care_task")
    assert reply["ok"], reply
    st = wait_for(lambda: (s := status(k))["mode"] == "care_task" and s["song"] and s, what="the care task")
    assert 0 < st["care_task_left"] <= 12 and st["session_left"] <= 12
    wait_for(lambda: status(k)["state"] == "stopped", timeout=40, what="the care task to end")
    during = plays(lib)[before:]
    assert len(during) >= 3
    assert {p[1] for p in during} <= keepers
    assert during[-1][2] == "session_end"
    assert plays(lib)[before - 1][2] == "stopped", "the song playing gave way; it was not skipped"
    assert status(k)["mode"] == "usual"
