"""The kiosk keeps its promises on every path, not only the usual one: a session ends
however the music started, a restart does not repeat a song, a red-flagged or removed song
never plays again at any moment, and an action the kiosk cannot do is refused, not ignored."""
from __future__ import annotations

import pytest

from content import control, curation, library
from kiosk.actions import ActionError
from kiosk.config import ConfigError, from_dict
from tests.test_kiosk_session import kiosks  # noqa: F401  (the same fixture: kiosks stopped after the test)
from tests.test_kiosk_support import add_song, config, wait_for


def status(k):
    return k.controller.status(timeout=10)


def playing_id(k):
    return (status(k)["song"] or {}).get("id")


def last_play(lib):
    return lib.db.execute("SELECT song_id, ended_how FROM plays ORDER BY id DESC LIMIT 1").fetchone()


def stop_music(k):
    k.controller.press("play")
    wait_for(lambda: status(k)["state"] == "stopped", what="the music to stop")


# --- the session limit ---------------------------------------------------------------------

@pytest.mark.parametrize("how", ["play", "next", "previous", "decade:1950", "resident:Mary", "panel next"])
def test_the_session_ends_however_the_music_started(lib, mary, kiosks, how):
    for freq in (440, 550):
        add_song(lib, mary, freq, 30, year=1956)
    cfg = config(lib, session={"minutes": 0.05})          # three seconds
    k = kiosks(cfg)
    if how.startswith("panel "):
        assert control.press(cfg.socket_path, how.split()[1]) == {"ok": True}
    else:
        k.controller.press(how, source="test")
    st = wait_for(lambda: (s := status(k))["song"] and s, what="music")
    assert st["session_left"] is not None and st["session_left"] <= 3, st
    wait_for(lambda: status(k)["state"] == "stopped", timeout=20, what="the session to end")
    assert last_play(lib)[1] == "session_end"


# --- after a restart -----------------------------------------------------------------------

def test_after_a_restart_next_never_replays_the_song_just_resumed(lib, mary, kiosks):
    for freq in (440, 550):
        add_song(lib, mary, freq, 30)
    cfg = config(lib)
    k = kiosks(cfg)
    k.controller.press("play")
    wait_for(lambda: playing_id(k), what="music")
    stop_music(k)
    for _ in range(6):                        # each round a fresh process's worth of state
        k.stop()
        k = kiosks(cfg)
        k.controller.press("play")
        resumed = wait_for(lambda: playing_id(k), what="the resumed song")
        k.controller.press("next")
        after = wait_for(lambda: (i := playing_id(k)) != resumed and i or None, timeout=5,
                         what=f"Next to play another song than the resumed {resumed}")
        assert after != resumed
        stop_music(k)


def test_songs_heard_before_a_restart_rest_after_it(lib, mary, kiosks):
    for freq in (440, 550):
        add_song(lib, mary, freq, 30)
    cfg = config(lib)
    for _ in range(6):
        heard_last = lib.db.execute("SELECT song_id FROM plays ORDER BY id DESC LIMIT 1").fetchone()
        lib.db.execute("DELETE FROM kiosk_state WHERE key = 'resume'")   # so Next, not a resume, chooses
        k = kiosks(cfg)
        k.controller.press("next")
        fresh = wait_for(lambda: playing_id(k), what="music after the restart")
        assert heard_last is None or fresh != heard_last[0]
        stop_music(k)
        k.stop()


# --- red flags and removals, at every moment ---------------------------------------------

def _flag(lib, mary, song_id):
    curation.set_red_flag(lib.db, mary.id, song_id, on=True, reason="upsets her", user_id=None, by_staff=True,
                          resident_name=mary.name)


def _remove(lib, mary, song_id):
    """Taken from Mary's songs; Zena keeps it, so the file stays and only the rule can stop it."""
    zena = library.find_resident(lib.db, "Zena") or library.add_resident(lib.db, "Zena", birth_year=1940)
    library.link_song(lib.db, zena.id, song_id)
    curation.remove_from_resident(lib.db, lib.media, mary.id, song_id)


@pytest.mark.parametrize("change", [_flag, _remove], ids=["red flag", "removed"])
def test_a_song_changed_while_stopped_is_never_resumed(lib, mary, kiosks, change):
    for freq in (440, 550):
        add_song(lib, mary, freq, 30)
    k = kiosks(config(lib))
    k.controller.press("play")
    song = wait_for(lambda: playing_id(k), what="music")
    stop_music(k)
    change(lib, mary, song)
    k.controller.press("play")
    other = wait_for(lambda: playing_id(k), what="music again")
    assert other != song


@pytest.mark.parametrize("change", [_flag, _remove], ids=["red flag", "removed"])
def test_a_song_changed_while_the_box_is_off_is_never_resumed(lib, mary, kiosks, change):
    for freq in (440, 550):
        add_song(lib, mary, freq, 30)
    cfg = config(lib)
    k = kiosks(cfg)
    k.controller.press("play")
    song = wait_for(lambda: playing_id(k), what="music")
    k.stop()                                   # the resume point is saved
    change(lib, mary, song)
    k = kiosks(cfg)
    k.controller.press("play")
    assert wait_for(lambda: playing_id(k), what="music after the restart") != song


@pytest.mark.parametrize("change, how", [(_flag, "red_flag"), (_remove, "removed")], ids=["red flag", "removed"])
def test_a_song_changed_while_it_plays_stops_at_once_and_never_returns(lib, mary, kiosks, change, how):
    for freq in (440, 550):
        add_song(lib, mary, freq, 30)
    k = kiosks(config(lib))
    k.controller.press("play")
    song = wait_for(lambda: playing_id(k), what="music")
    change(lib, mary, song)
    k.controller.library_changed()
    wait_for(lambda: status(k)["state"] == "stopped", timeout=5, what="the song to stop")
    assert last_play(lib) == (song, how)
    for action in ("play", "previous", "next"):
        k.controller.press(action)
        assert wait_for(lambda: playing_id(k), what=f"music after {action}") != song


@pytest.mark.parametrize("change", [_flag, _remove], ids=["red flag", "removed"])
def test_a_song_changed_while_fading_out_does_not_come_back_on_play(lib, mary, kiosks, change):
    for freq in (440, 550):
        add_song(lib, mary, freq, 30)
    k = kiosks(config(lib, volume={"fade_out_s": 5.0}))
    k.controller.press("play")
    song = wait_for(lambda: playing_id(k), what="music")
    k.controller.press("play")                              # a long fade out begins
    wait_for(lambda: status(k)["state"] == "stopping", what="the fade out")
    change(lib, mary, song)
    k.controller.press("play")                              # Play again would call the fade off
    k.controller.library_changed()
    wait_for(lambda: playing_id(k) != song, timeout=5, what="the changed song to go")
    assert not lib.db.execute("SELECT 1 FROM plays WHERE song_id = ? AND ended_at IS NULL", [song]).fetchone()


# --- what the kiosk cannot do is refused -------------------------------------------------

def test_playlist_actions_are_refused_in_the_settings_and_on_the_socket(lib, mary, kiosks):
    with pytest.raises(ConfigError, match="[Pp]laylists"):
        from_dict({"buttons": {"hymns": {"gpio": 5, "press": "playlist:hymns"}}})
    add_song(lib, mary, 440, 30)
    cfg = config(lib)
    k = kiosks(cfg)
    with pytest.raises(ActionError, match="[Pp]laylists"):
        k.controller.press("playlist:hymns")
    answer = control.press(cfg.socket_path, "playlist:hymns")
    assert answer["ok"] is False and "laylists" in answer["error"]
