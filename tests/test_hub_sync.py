"""A real hub (waitress on 127.0.0.1) and boxes running the real sync agent: pairing, the
versioned state, media by hash, red flags, plays sent back once, revoked and wrong
credentials, tampered media."""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

import pytest

from content import integrity, library
from content.hub import boxes
from content.sync import config, outbox
from content import curation as edits
from tests.hubkit import Box, Hub, wait_for


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path / "hub").start()
    yield h
    h.close()


@pytest.fixture
def box_a(tmp_path):
    b = Box(tmp_path / "box-a")
    yield b
    b.close()


@pytest.fixture
def box_b(tmp_path):
    b = Box(tmp_path / "box-b")
    yield b
    b.close()


def _get(url: str, credential: str | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, headers={**({"Authorization": f"Bearer {credential}"} if credential else {}),
                                               **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_a_box_gets_its_residents_songs_and_no_one_elses(hub, box_a, box_b):
    home = hub.home("Rose House")
    mary, bob = hub.resident("Mary", home), hub.resident("Bob", home)
    m1 = hub.song(mary, 440, "Mary One")
    hub.song(mary, 550, "Mary Two")
    hub.song(bob, 660, "Bob One")
    _, code_a = hub.box(home, "Lounge", [mary])
    _, code_b = hub.box(home, "Room 12", [bob])
    assert box_a.join(hub.url, code_a)[0] == 0
    assert box_b.join(hub.url, code_b)[0] == 0
    box_a.start_agent()
    box_b.start_agent()

    wait_for(lambda: len(box_a.songs(mary.id)) == 2, 20, "box A has Mary's two songs")
    wait_for(lambda: len(box_b.songs(bob.id)) == 1, 20, "box B has Bob's song")
    assert [r.name for r in library.list_residents(box_a.db)] == ["Mary"]
    assert [r.name for r in library.list_residents(box_b.db)] == ["Bob"]
    hub_file = hub.db.execute("SELECT sha256 || '.' || ext FROM songs WHERE id = ?", [m1]).fetchone()[0]
    assert hub_file in box_a.files() and hub_file not in box_b.files()
    assert (box_a.media / hub_file).read_bytes() == (hub.media / hub_file).read_bytes()
    assert integrity.check(box_a.db, box_a.media).ok

    # The family's red flag on the hub reaches box A's library.
    edits.set_red_flag(hub.db, mary.id, m1, on=True, reason="upset", user_id=None, by_staff=True,
                       resident_name="Mary")
    wait_for(lambda: any(s.never_play for s in box_a.songs(mary.id) if s.song_id == m1), 10,
             "the red flag reached box A")


def test_plays_arrive_once_even_when_sent_again(hub, box_a):
    home = hub.home("Rose House")
    mary = hub.resident("Mary", home)
    sid = hub.song(mary, 440, "Mary One")
    _, code = hub.box(home, "Lounge", [mary])
    box_a.join(hub.url, code)
    box_a.start_agent()
    wait_for(lambda: box_a.songs(mary.id), 20, "box A has the song")
    for i in range(3):
        box_a.db.execute("INSERT INTO plays (resident_id, song_id, started_at, ended_at, seconds_heard, ended_how) "
                         "VALUES (?, ?, ?, ?, 30, 'finished')", [mary.id, sid, f"2026-01-0{i + 1}T10:00:00Z",
                                                                 f"2026-01-0{i + 1}T10:00:30Z"])
        box_a.db.conn.commit()
    wait_for(lambda: hub.db.execute("SELECT COUNT(*) FROM plays").fetchone()[0] == 3, 10, "three plays on the hub")
    wait_for(lambda: outbox.count(box_a.db) == 0, 10, "the outbox is empty")
    # The same items sent again (an answer lost on the way): acknowledged, not counted twice.
    box_a.stop_agent()
    link = config.load(box_a.data)
    items = [{"uid": f"{outbox.get_state(box_a.db, 'box_uid', '')}/play/{n}", "kind": "play",
              "payload": {"resident_id": mary.id, "song_id": sid, "started_at": "2026-01-01T10:00:00Z",
                          "seconds_heard": 30, "ended_how": "finished"}} for n in (1, 2, 3)]
    req = urllib.request.Request(hub.url + "/api/box/report", data=json.dumps({"items": items}).encode(),
                                 headers={"Authorization": link.authorization, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert len(json.loads(resp.read())["acked"]) == 3
    assert hub.db.execute("SELECT COUNT(*) FROM plays").fetchone()[0] == 3


def test_state_is_conditional_and_wrong_or_revoked_credentials_get_nothing(hub, box_a):
    home = hub.home("Rose House")
    mary = hub.resident("Mary", home)
    sid = hub.song(mary, 440, "Mary One")
    box, code = hub.box(home, "Lounge", [mary])
    assert box_a.join(hub.url, code)[0] == 0
    link = config.load(box_a.data)
    status, headers, body = _get(hub.url + "/api/box/state", link.credential)
    assert status == 200 and json.loads(body)["residents"][0]["name"] == "Mary"
    assert _get(hub.url + "/api/box/state", link.credential, {"If-None-Match": headers["etag"]})[0] == 304
    sha = hub.db.execute("SELECT sha256 FROM songs WHERE id = ?", [sid]).fetchone()[0]

    wrong = link.credential[:-4] + "AAAA"
    for cred in (wrong, None, "1.", "x" * 50):
        assert _get(hub.url + "/api/box/state", cred)[0] == 401
        assert _get(hub.url + f"/api/box/media/{sha}", cred)[0] == 401
    # The pairing code worked once only.
    assert box_a.join(hub.url, code)[0] != 0

    boxes.revoke(hub.db, box.id)
    for path in ("/api/box/state", f"/api/box/media/{sha}", "/api/box/wait?timeout=1"):
        status, _, body = _get(hub.url + path, link.credential)
        assert status == 401 and b"Mary" not in body


def test_tampered_media_is_refused_and_fetched_again(hub, box_a, caplog):
    caplog.set_level(logging.INFO)
    home = hub.home("Rose House")
    mary = hub.resident("Mary", home)
    sid = hub.song(mary, 440, "Mary One", seconds=3)
    name = hub.db.execute("SELECT sha256 || '.' || ext FROM songs WHERE id = ?", [sid]).fetchone()[0]
    good = (hub.media / name).read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    (hub.media / name).write_bytes(bytes(bad))          # the hub now serves wrong bytes
    _, code = hub.box(home, "Lounge", [mary])
    box_a.join(hub.url, code)
    box_a.start_agent()
    wait_for(lambda: box_a.db.execute("SELECT value FROM sync_state WHERE key = 'applied'").fetchone(), 10,
             "the state applied")
    # It keeps refusing the wrong bytes: no song, no file, after two refusals as after one.
    wait_for(lambda: sum("do not match the song's fingerprint" in r.getMessage() for r in caplog.records) >= 2,
             20, "the wrong bytes refused twice")
    assert box_a.songs(mary.id) == [] and name not in box_a.files()
    (hub.media / name).write_bytes(good)
    wait_for(lambda: box_a.songs(mary.id), 20, "the song arrives once the right bytes are served")
    assert (box_a.media / name).read_bytes() == good
    assert integrity.check(box_a.db, box_a.media).ok


def _cli(*args: str) -> tuple[int, str]:
    import contextlib
    import io

    from content import cli
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = cli.main(list(args))
    return status, out.getvalue()


def test_import_on_a_box_in_hub_mode_sends_the_songs_to_the_hub_or_refuses_in_one_sentence(hub, box_a, tmp_path):
    from tests.audio import write_song
    home = hub.home("Rose House")
    mary = hub.resident("Mary", home)
    hub.song(mary, 440, "Mary One")
    _, code = hub.box(home, "Lounge", [mary])
    box_a.join(hub.url, code)
    box_a.start_agent()
    wait_for(lambda: box_a.songs(mary.id), 20, "box A has Mary's song")
    stick = tmp_path / "usb"
    # Over a megabyte: the hub checks the box before it takes in a body that size.
    write_song(stick / "Vera Lynn - We'll Meet Again.wav", 523, 8, tags={"title": "We'll Meet Again"})
    status, words = _cli("import", "--resident", "Mary", str(stick), "--db", str(box_a.data / "library.db"))
    assert status == 0, words
    assert "added" in words and "on the hub" in words
    assert any(s.title == "We'll Meet Again" for s in library.resident_songs(hub.db, mary.id))
    wait_for(lambda: any(s.title == "We'll Meet Again" for s in box_a.songs(mary.id)), 20,
             "the imported song came back to the box through the hub")
    box_a.stop_agent()
    hub.stop()
    write_song(stick / "Another.wav", 600, 3)
    status, words = _cli("import", "--resident", "Mary", str(stick), "--db", str(box_a.data / "library.db"))
    assert status == 2
    assert words.startswith("Error: This music box follows the hub at") and words.count("\n") == 1
    assert "nothing was imported" in words


def test_care_homes_and_staff_limited_to_them_from_the_command_line(hub):
    db = str(hub.data / "library.db")
    assert _cli("homes", "add", "Rose House", "--db", db)[0] == 0
    assert _cli("homes", "add", "Oak Lodge", "--db", db)[0] == 0
    hub.staff("sam@rose.example")
    status, words = _cli("homes", "staff", "--email", "sam@rose.example", "--home", "rose house", "--db", db)
    assert status == 0 and "now sees only Rose House" in words
    status, words = _cli("homes", "list", "--db", db)
    assert "Rose House: sam@rose.example" in words and "Oak Lodge: no staff of its own" in words
    status, words = _cli("homes", "staff", "--email", "sam@rose.example", "--home", "Elm Court", "--db", db)
    assert status == 2 and "There is no care home called Elm Court." in words


def test_files_nothing_uses_stay_for_the_grace_period_then_go(lib):
    import datetime as dt

    from content.sync import files
    name = "ab" * 32 + ".wav"
    (lib.media / name).write_bytes(b"RIFF")
    lib.db.execute("INSERT INTO sync_files (name, placed_at) VALUES (?, '2026-01-01T00:00:00Z')", [name])
    lib.db.conn.commit()
    assert integrity.check(lib.db, lib.media).ok          # the agent's file, not an orphan
    now = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    downloads = lib.data / "sync" / "downloads"
    assert files.collect_garbage(lib.db, lib.media, downloads, set(), now=now) == []
    later = now + dt.timedelta(days=files.GRACE_DAYS) - dt.timedelta(minutes=1)
    assert files.collect_garbage(lib.db, lib.media, downloads, set(), now=later) == []
    assert (lib.media / name).exists()
    # Wanted again within the grace period: the clock starts over.
    files.collect_garbage(lib.db, lib.media, downloads, {name}, now=later)
    assert files.collect_garbage(lib.db, lib.media, downloads, set(), now=later + dt.timedelta(days=1)) == []
    gone = later + dt.timedelta(days=1 + files.GRACE_DAYS, minutes=1)
    assert files.collect_garbage(lib.db, lib.media, downloads, set(), now=gone) == [name]
    assert not (lib.media / name).exists() and integrity.check(lib.db, lib.media).ok


def test_the_agent_tells_systemd_it_is_ready_and_alive_while_its_loops_run(hub, box_a, tmp_path):
    from content.sdnotify import SdNotify
    from content.sync.agent import Agent
    from tests.test_kiosk_process import Notifications
    home = hub.home("Rose House")
    mary = hub.resident("Mary", home)
    _, code = hub.box(home, "Lounge", [mary])
    box_a.join(hub.url, code)
    notify = Notifications(tmp_path / "notify.sock")
    agent = Agent(box_a.settings(), notifier=SdNotify(str(notify.path)))
    agent.start()
    try:
        notify.wait("READY=1", 10)
        notify.wait("WATCHDOG=1", 10)
        # A loop that stops showing life stops the heartbeats, so systemd restarts the agent.
        # (The waiter is held at the hub for up to 20 s here, so it cannot show life meanwhile.)
        agent._shared.alive["waiter"] -= 10_000
        agent.s.wait_s = 0
        notify.seen.clear()
        with pytest.raises(AssertionError, match="no WATCHDOG=1"):
            notify.wait("WATCHDOG=1", 2)
    finally:
        agent.stop()


def test_a_reaction_logged_on_the_box_reaches_the_hub_once_and_counts_there(hub, box_a):
    from content.care import reactions
    home = hub.home("Rose House")
    mary = hub.resident("Mary", home)
    sid = hub.song(mary, 440, "Mary One")
    _, code = hub.box(home, "Lounge", [mary])
    box_a.join(hub.url, code)
    box_a.start_agent()
    wait_for(lambda: box_a.songs(mary.id), 20, "box A has Mary's song")
    logged = reactions.record(box_a.db, mary.id, "sang_along", song_id=sid, by_role="staff", source="box")
    wait_for(lambda: reactions.by_uid(hub.db, logged.uid), 10, "the reaction reached the hub")
    assert [r.uid for r in reactions.recent(hub.db, mary.id)] == [logged.uid]
    wait_for(lambda: hub.db.execute("SELECT reactions_positive FROM resident_songs WHERE song_id = ?",
                                    [sid]).fetchone()[0] == 1, 10, "the hub counted it on the song")
    # The hub's count comes back to the box with the next state: still one, not two.
    wait_for(lambda: outbox.count(box_a.db) == 0, 10, "the outbox is empty")
    assert box_a.db.execute("SELECT reactions_positive FROM resident_songs WHERE song_id = ?", [sid]).fetchone()[0] == 1


def test_a_download_cut_off_resumes_where_it_stopped(hub, box_a):
    from content.sync import files
    from content.sync.client import HubClient
    home = hub.home("Rose House")
    mary = hub.resident("Mary", home)
    sid = hub.song(mary, 440, "Mary One", seconds=4)
    _, code = hub.box(home, "Lounge", [mary])
    box_a.join(hub.url, code)
    sha, ext, size = hub.db.execute("SELECT sha256, ext, size_bytes FROM songs WHERE id = ?", [sid]).fetchone()
    whole = (hub.media / f"{sha}.{ext}").read_bytes()
    downloads = box_a.data / "sync" / "downloads"
    downloads.mkdir(parents=True)
    (downloads / f"{sha}.{ext}.part").write_bytes(whole[:size // 2])      # what a cut left
    link = config.load(box_a.data)
    client = HubClient(link.hub, link.authorization)
    got = []
    try:
        target = files.fetch(client, box_a.db, box_a.media, downloads, sha256=sha, ext=ext, size=size,
                             progress=got.append)
    finally:
        client.close()
    assert sum(got) == size - size // 2                  # only the rest came over the wire
    assert target.read_bytes() == whole and not any(downloads.iterdir())
