"""The session with real libvlc: songs follow each other, sessions end gently, residents
and decades switch, missing files are skipped, and the history says what happened."""
from __future__ import annotations

import numpy as np
import pytest

from content import library
from content.plays import History, ResumePoint
from tests.pcm import PcmMeter
from tests.test_kiosk_support import (
    GPIO, add_song, add_song_with_coda, config, start_kiosk, tone_runs, tones_heard, wait_for,
)


@pytest.fixture
def kiosks():
    started = []

    def make(cfg, meter=None, gpio=None):
        k = start_kiosk(cfg, meter, gpio)
        started.append(k)
        return k

    yield make
    for k in started:
        k.stop()
    GPIO.cleanup()


def status(k):
    return k.controller.status(timeout=10)


def plays(lib):
    return [tuple(r) for r in lib.db.execute("SELECT song_id, ended_how, seconds_heard FROM plays ORDER BY id")]


def test_songs_follow_each_other_whole_and_never_twice_in_a_row(lib, mary, kiosks):
    # Each song ends on a tone of its own, so the audio says whether its end was heard
    # before the next song began.
    codas = {400: 800, 600: 1000}
    ids = {add_song_with_coda(lib, mary, f, codas[f], 2.5, 0.3): f for f in codas}
    meter = PcmMeter(keep_audio=True)
    k = kiosks(config(lib), meter)
    k.controller.press("play")
    wait_for(lambda: len(plays(lib)) >= 3, timeout=30, what="three songs")
    done = [p for p in plays(lib) if p[1] == "finished"]
    assert len(done) >= 2
    assert all(abs(p[2] - 2.5) < 0.2 for p in done), done
    order = [p[0] for p in plays(lib)]
    assert all(a != b for a, b in zip(order, order[1:])), order
    # Whole, start to end: VLC's early "ended" did not cut the last moments of the first
    # song, nor of the second, and the second began at its start.
    runs = [(f, seconds) for f, seconds in tone_runs(meter.audio_since(0)) if seconds >= 0.1]
    first, second = ids[order[0]], ids[order[1]]
    assert [f for f, _ in runs[:4]] == [first, codas[first], second, codas[second]], (runs, order)
    assert runs[1][1] >= 0.2 and runs[3][1] >= 0.2, ("the last moments of each song", runs)


def test_the_session_ends_with_a_fade_and_is_recorded(lib, mary, kiosks):
    add_song(lib, mary, 440, 8)
    meter = PcmMeter()
    k = kiosks(config(lib, session={"minutes": 0.05}, volume={"session_fade_out_s": 0.5}), meter)
    k.controller.press("play")
    st = wait_for(lambda: (s := status(k))["song"] and s, what="music")
    assert st["session_left"] <= 3, "a three-second session, not the default half hour"
    wait_for(lambda: status(k)["state"] == "stopped", timeout=20, what="the session to end")
    (song, how, heard), = plays(lib)
    assert how == "session_end"
    assert 0 < heard < 8, "part of the song was heard, and the session ended it before its end"


def test_a_resident_button_switches_whose_music_plays(lib, mary, kiosks):
    add_song(lib, mary, 440, 6)
    john = library.add_resident(lib.db, "John", birth_year=1930)
    johns = add_song(lib, john, 880, 6, title="John's song")
    k = kiosks(config(lib, resident="Mary"), PcmMeter())
    assert status(k)["resident"] == "Mary"
    k.controller.press("resident:john")
    st = wait_for(lambda: (s := status(k))["song"] and s, what="John's music")
    assert st["resident"] == "John" and st["song"]["id"] == johns
    assert lib.db.execute("SELECT resident_id FROM plays").fetchone()[0] == john.id


def test_decade_radio_plays_only_that_decade(lib, mary, kiosks):
    add_song(lib, mary, 440, 6, year=1942)
    fifties = add_song(lib, mary, 660, 6, year=1956)
    k = kiosks(config(lib), PcmMeter())
    for _ in range(3):
        k.controller.press("decade:1950")
        st = wait_for(lambda: (s := status(k))["song"] and s, what="music")
        assert st["song"]["id"] == fifties and st["decade"] == 1950
        k.controller.press("stop")
        wait_for(lambda: status(k)["state"] == "stopped", what="stop")


def test_previous_goes_back_to_the_song_before(lib, mary, kiosks):
    add_song(lib, mary, 440, 6)
    add_song(lib, mary, 660, 6)
    k = kiosks(config(lib), PcmMeter())
    k.controller.press("play")
    first = wait_for(lambda: status(k)["song"], what="music")["id"]
    k.controller.press("next")
    wait_for(lambda: (status(k)["song"] or {}).get("id") not in (None, first), what="the next song")
    k.controller.press("previous")
    wait_for(lambda: (status(k)["song"] or {}).get("id") == first, what="the first song again")
    assert [p[1] for p in plays(lib)][:2] == ["next", "previous"]


def test_a_missing_file_is_skipped_and_marked(lib, mary, kiosks):
    gone = add_song(lib, mary, 300, 5)
    there = add_song(lib, mary, 700, 5)
    sha, ext = lib.db.execute("SELECT sha256, ext FROM songs WHERE id = ?", [gone]).fetchone()
    (lib.media / f"{sha}.{ext}").unlink()
    History(lib.db).save_resume(ResumePoint(mary.id, gone, 0.0))          # so Play tries it first
    k = kiosks(config(lib), PcmMeter())
    k.controller.press("play")
    wait_for(lambda: (status(k)["song"] or {}).get("id") == there, what="the song that is there")
    assert lib.db.execute("SELECT unplayable FROM songs WHERE id = ?", [gone]).fetchone()[0] == 1


def test_the_ready_light_blinks_when_there_is_nothing_to_play(lib, mary, kiosks):
    k = kiosks(config(lib), PcmMeter(), GPIO)
    assert "no songs" in status(k)["quiet_reason"]
    seen = set()
    wait_for(lambda: seen.add(GPIO.levels[5]) or len(seen) == 2, timeout=15, what="the ready light to blink")
    assert GPIO.levels[6] == GPIO.LOW


def test_music_starts_gently_even_before_vlc_takes_the_volume(lib, mary, kiosks):
    add_song(lib, mary, 440, 6)
    meter = PcmMeter(keep_audio=True)
    k = kiosks(config(lib, volume={"start": 70, "cap": 70, "fade_in_s": 3.0}), meter)
    for action in ("play", "next"):
        meter.reset()
        k.controller.press(action)
        first = meter.wait_first_frame(15)
        assert first is not None, f"no sound after {action}"
        wait_for(lambda: len(meter.audio_since(first)) > 44100, what="a second of audio")
        at_cap = 0.3 * 32767 * 0.7 ** 3
        opening = int(np.abs(meter.audio_since(first)[:2205].astype(np.int32)).max())   # the first 50 ms
        assert opening < at_cap * 0.1, f"the first 50 ms peaked at {opening}, the cap is {at_cap:.0f}"


def test_a_residents_own_cap_and_start_volume_apply(lib, kiosks):
    library.add_resident(lib.db, "Edith", birth_year=1935, volume_cap=30, start_volume=50)
    k = kiosks(config(lib), PcmMeter())
    st = status(k)
    assert st["resident"] == "Edith" and st["volume_cap"] == 30 and st["volume"] == 30
    for _ in range(5):
        k.controller.press("volume_up")
    assert status(k)["volume"] == 30


def test_a_song_that_cannot_start_part_way_resumes_from_its_start_not_marked(lib, mary, kiosks):
    song = add_song(lib, mary, 520, 8, fmt=".ogg")
    History(lib.db).save_resume(ResumePoint(mary.id, song, 4.0))
    meter = PcmMeter(keep_audio=True)
    k = kiosks(config(lib), meter)
    k.controller.press("play")
    wait_for(lambda: 520 in tones_heard(meter.audio_since(0)), what="the song's sound")
    st = status(k)
    assert st["state"] == "playing" and st["song"]["id"] == song
    assert tones_heard(meter.audio_since(0)) == [520]
    assert lib.db.execute("SELECT unplayable FROM songs WHERE id = ?", [song]).fetchone()[0] == 0
    assert lib.db.execute("SELECT COUNT(*) FROM plays").fetchone()[0] == 1, "one play, not an error and a retry"


def test_the_kiosk_shows_the_residents_own_names_and_year_for_a_shared_song(lib, mary, kiosks):
    """The same audio for Mary and Bob, named and dated differently by each family: the
    kiosk playing for Mary says Mary's names, its decade buttons follow Mary's year."""
    from content import curation
    sid = add_song(lib, mary, 500, seconds=20, title="Track 3", year=1999)
    bob = library.add_resident(lib.db, "Bob", birth_year=1931)
    library.link_song(lib.db, bob.id, sid)
    curation.update_entry(lib.db, mary.id, sid, title="Mum's dance", artist="Ted Heath", year=1953)
    curation.update_entry(lib.db, bob.id, sid, title="Dad's waltz", artist="Savoy", year=1948)
    k = kiosks(config(lib, resident="Mary"))
    k.controller.press("play")
    st = wait_for(lambda: (s := status(k))["song"] and s, timeout=15, what="a song playing")
    assert (st["song"]["title"], st["song"]["artist"], st["song"]["year"]) == ("Mum's dance", "Ted Heath", 1953)
    assert "decade:1950" in st["buttons"] and "decade:1940" not in st["buttons"]
