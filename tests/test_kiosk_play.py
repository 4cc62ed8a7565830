"""The kiosk end to end: fake GPIO edges -> real gestures, controller, libvlc (amem meter),
a real library file. Each song is a distinct tone, so the audio says which one played."""
from __future__ import annotations

import time

import pytest

from content import control, library
from content.plays import History, ResumePoint
from tests.pcm import PcmMeter
from tests.test_kiosk_support import (
    GPIO, PINS, add_song, click, config, settled, start_kiosk, tones_heard, wait_for, wait_until,
)


@pytest.fixture
def gpio():
    GPIO.cleanup()
    yield GPIO
    GPIO.cleanup()


@pytest.fixture
def kiosk_factory():
    started = []

    def make(cfg, meter=None, gpio=None, shutdown=None):
        k = start_kiosk(cfg, meter, gpio, shutdown)
        started.append(k)
        return k

    yield make
    for k in started:
        k.stop()


def status(k):
    return k.controller.status(timeout=10)


def test_press_play_gives_music_then_next_changes_song(lib, mary, gpio, kiosk_factory):
    add_song(lib, mary, 440, 5)
    add_song(lib, mary, 660, 5)
    meter = PcmMeter(keep_audio=True)
    k = kiosk_factory(config(lib), meter, gpio)
    assert status(k)["state"] == "stopped"
    assert GPIO.levels[5] == GPIO.HIGH, "the ready light is on once armed"
    assert meter.frames == 0, "nothing plays by itself"

    click(PINS["play"])
    first = wait_for(lambda: status(k)["song"], what="a song to start")
    wait_for(lambda: tones_heard(meter.audio_since(0)), what="the first song's sound")
    assert GPIO.levels[6] == GPIO.HIGH, "the playing light is on"
    t_next = click(PINS["next"])
    wait_for(lambda: status(k)["song"] and status(k)["song"]["id"] != first["id"], what="the next song")
    wait_for(lambda: len(meter.audio_since(t_next)) > 44100, what="audio of the next song")

    heard = tones_heard(meter.audio_since(0))
    assert heard[:2] in ([440, 660], [660, 440]), heard
    assert heard[0] != heard[1]
    plays = list(lib.db.query("SELECT song_id, ended_how FROM plays ORDER BY id"))
    assert plays[0]["song_id"] == first["id"] and plays[0]["ended_how"] == "next"


def test_volume_cap_holds_under_a_storm_of_presses(lib, mary, kiosk_factory):
    add_song(lib, mary, 500, 6)
    meter = PcmMeter()
    cfg = config(lib, volume={"start": 30, "cap": 50, "fade_in_s": 0.0}, gestures={"repeat_guard_ms": 0})
    k = kiosk_factory(cfg, meter)
    k.controller.press("play")
    wait_for(lambda: meter.peak() > 0, what="music")
    t_start = time.monotonic()
    f0 = meter.frames
    wait_for(lambda: meter.frames > f0 + 22050, what="half a second of audio at the start volume")
    quiet = meter.peak_since(t_start)
    for _ in range(60):
        k.controller.press("volume_up")
    st = wait_for(lambda: (s := status(k))["volume"] == 50 and s, what="volume at the cap")
    assert st["volume_cap"] == 50
    t_loud = time.monotonic()
    f1 = meter.frames
    wait_for(lambda: meter.frames > f1 + 44100 and meter.peak_since(t_loud + 0.5) > 0, what="audio after the storm")
    loud = meter.peak_since(t_loud + 0.5)
    full_scale = 0.3 * 32767
    assert loud > quiet * 2, "volume up made it louder"
    for _ in range(60):
        k.controller.press("volume_down")
    assert wait_for(lambda: (s := status(k))["volume"] == 10 and s), "volume down stops at one step, never silence"
    # The cap on VLC's cubic scale: 50 -> x0.125 of the file's level, never more.
    assert loud <= full_scale * 0.5 ** 3 * 1.1, (loud, full_scale)


def test_tremor_double_presses_and_brushes_are_ignored(lib, mary, gpio, kiosk_factory):
    add_song(lib, mary, 440, 5)
    add_song(lib, mary, 660, 5)
    meter = PcmMeter()
    k = kiosk_factory(config(lib), meter, gpio)
    # A brush shorter than the tremor filter: nothing, even once its debounce has settled.
    brushed = click(PINS["play"], hold_s=0.06)
    st = settled(k, brushed)
    assert st["state"] == "stopped" and st["song"] is None, "no music from a brush"
    # Bounce: a burst of edges shorter than the debounce.
    for _ in range(5):
        GPIO.drive(PINS["next"], GPIO.LOW)
        GPIO.drive(PINS["next"], GPIO.HIGH)
    st = settled(k, time.monotonic())
    assert st["state"] == "stopped" and st["song"] is None, "no music from a bounce"
    assert lib.db.execute("SELECT COUNT(*) FROM plays").fetchone()[0] == 0
    assert meter.frames == 0
    # A real press once the repeat guard of the brush would be over (had it counted), then
    # a shaky second press of the same button straight away: one action.
    wait_until(brushed + k.config.gestures.repeat_guard_ms / 1000 + 0.1)
    click(PINS["play"])
    song = wait_for(lambda: status(k)["song"], what="music")
    click(PINS["play"])                                  # within the 1 s repeat guard
    wait_for(lambda: meter.frames > 44100, what="a second of audio")
    st = status(k)
    assert st["state"] == "playing" and st["song"]["id"] == song["id"], "the double press did not stop it"
    assert lib.db.execute("SELECT COUNT(*) FROM plays").fetchone()[0] == 1


def test_a_corrupt_file_is_skipped_marked_and_silent(lib, mary, kiosk_factory):
    bad = add_song(lib, mary, 300, 5, title="Broken")
    good = add_song(lib, mary, 700, 5, title="Fine")
    row = lib.db.execute("SELECT sha256, ext FROM songs WHERE id = ?", [bad]).fetchone()
    (lib.media / f"{row[0]}.{row[1]}").write_bytes(b"\x00" * 4096)       # the card went bad
    # It was the song playing when the power went, so Play tries it first.
    History(lib.db).save_resume(ResumePoint(mary.id, bad, 0.0))
    meter = PcmMeter(keep_audio=True)
    k = kiosk_factory(config(lib), meter)
    k.controller.press("play")
    wait_for(lambda: (status(k)["song"] or {}).get("id") == good, what="the good song")
    wait_for(lambda: 700 in tones_heard(meter.audio_since(0)), what="the good song's sound")
    assert set(tones_heard(meter.audio_since(0))) == {700}, "only the good song made a sound"
    unplayable = lib.db.execute("SELECT unplayable, unplayable_reason FROM songs WHERE id = ?", [bad]).fetchone()
    assert unplayable[0] == 1 and unplayable[1]
    assert lib.db.execute("SELECT ended_how FROM plays WHERE song_id = ?", [bad]).fetchall() == [("error",)]


def test_nothing_playable_stays_quiet_and_says_why(lib, mary, gpio, kiosk_factory):
    only = add_song(lib, mary, 440, 3)
    library.set_song_flags(lib.db, mary.id, only, never_play=True)
    meter = PcmMeter()
    k = kiosk_factory(config(lib), meter, gpio)
    st = status(k)
    assert st["resident"] == "Mary" and st["quiet_reason"]
    k.controller.press("play")
    st = status(k)
    assert st["state"] == "stopped" and "Mary" in st["quiet_reason"]
    assert meter.frames == 0
    assert GPIO.levels[6] == GPIO.LOW, "the playing light stays off"


def test_no_resident_at_all_is_explained(lib, kiosk_factory):
    k = kiosk_factory(config(lib), PcmMeter())
    assert "no residents" in status(k)["quiet_reason"]


def test_red_flag_stops_at_once_and_new_songs_join(lib, mary, kiosk_factory):
    upsetting = add_song(lib, mary, 440, 8, title="Upsetting")
    meter = PcmMeter(keep_audio=True)
    k = kiosk_factory(config(lib), meter)
    k.controller.press("play")
    wait_for(lambda: meter.peak() > 0, what="music")
    library.set_song_flags(lib.db, mary.id, upsetting, never_play=True)   # from the admin's connection
    control.request(k.config.socket_path, {"cmd": "library_changed"})
    wait_for(lambda: status(k)["state"] == "stopped", what="the red-flagged song to stop")
    st = status(k)
    assert st["song"] is None
    how = lib.db.execute("SELECT ended_how FROM plays WHERE song_id = ?", [upsetting]).fetchone()[0]
    assert how == "red_flag"
    # A new song added while the kiosk runs is played on the next press, no restart.
    fresh = add_song(lib, mary, 880, 5, title="New")
    wait_for(lambda: status(k)["quiet_reason"] is None, timeout=15, what="the kiosk to notice the new song by itself")
    k.controller.press("play")
    wait_for(lambda: (status(k)["song"] or {}).get("id") == fresh, what="the new song")


def test_status_and_press_over_the_socket(lib, mary, kiosk_factory):
    add_song(lib, mary, 440, 5, title="Moon River", year=1961)
    k = kiosk_factory(config(lib), PcmMeter())
    sock = k.config.socket_path
    answer = control.status(sock)
    assert answer["ok"]
    st = answer["status"]
    for key in ("state", "resident", "song", "position", "volume", "volume_cap", "session_left", "quiet_reason", "buttons"):
        assert key in st
    assert "play" in st["buttons"] and "resident:Mary" in st["buttons"] and "decade:1960" in st["buttons"]
    assert control.press(sock, "play") == {"ok": True}
    st = wait_for(lambda: (s := control.status(sock)["status"])["song"] and s, what="a song over the socket")
    assert st["song"]["title"] == "Moon River" and st["song"]["year"] == 1961
    assert st["session_left"] > 29 * 60
    bad = control.press(sock, "dance")
    assert bad["ok"] is False and "dance" in bad["error"]
    refused = control.press(sock, "playlist:hymns")
    assert refused["ok"] is False and "not available" in refused["error"]
    assert control.status(sock)["status"]["song"]["title"] == "Moon River"


def test_staff_hold_fades_out_and_runs_the_shutdown_command(lib, mary, gpio, kiosk_factory):
    add_song(lib, mary, 440, 8)
    ran = []
    cfg = config(lib, shutdown_command=["poweroff-for-test"], gestures={"hold_ms": 600})
    k = kiosk_factory(cfg, PcmMeter(), gpio, shutdown=ran.append)
    k.controller.press("play")
    wait_for(lambda: status(k)["song"], what="music")
    GPIO.drive(PINS["staff"], GPIO.LOW)
    wait_for(lambda: k.controller.finished.is_set(), timeout=15, what="the kiosk to shut down")
    GPIO.drive(PINS["staff"], GPIO.HIGH)
    assert ran == [("poweroff-for-test",)]
    how = lib.db.execute("SELECT ended_how FROM plays").fetchone()[0]
    assert how == "stopped"
