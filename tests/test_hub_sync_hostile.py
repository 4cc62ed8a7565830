"""A hub that lies: a state naming files outside the box's media folder, or sizes no song
has, is refused song by song (the rest still applies), and a download never fills the disk.

The hub here is a small fake on 127.0.0.1 serving a hostile state; the box runs the real
sync agent's steps against it."""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from content import db as dbmod
from content import ingest, library
from content.sync import config, files
from content.sync.agent import Agent, AgentSettings
from content.sync.client import HubClient, HubUnreachable
from tests.audio import write_song


class FakeHub:
    """Serves one state document and, for any media path, the bytes it was given for that
    hash (or a kilobyte of filler). Remembers every path asked for."""

    def __init__(self, state: dict[str, Any], media: dict[str, bytes]) -> None:
        self.state, self.media, self.asked = state, media, []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                hub.asked.append(self.path)
                if self.path == "/api/box/state":
                    body, kind = json.dumps(hub.state).encode(), "application/json"
                elif self.path.startswith("/api/box/media/"):
                    body, kind = hub.media.get(self.path[len("/api/box/media/"):], b"x" * 1024), "audio/wav"
                else:
                    body, kind = b"{}", "application/json"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", '"v1"')
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def real_song(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], bytes]:
    """A resident, a song and its entry as a hub's library holds them, and the song's bytes."""
    data = tmp_path / "hub"
    (data / "media").mkdir(parents=True)
    db = dbmod.connect(data / "library.db")
    try:
        mary = library.add_resident(db, "Mary", birth_year=1938)
        path = write_song(tmp_path / "one.wav", 440, 2.0, tags={"title": "Mary One"})
        result = ingest.ingest_file(db, data / "media", path, resident_id=mary.id, min_seconds=1.0)
        assert result.status == "added", result.reason
        resident = dict(next(db["residents"].rows))
        song = dict(next(db["songs"].rows))
        entry = dict(next(db["resident_songs"].rows))
        blob = (data / "media" / f"{song['sha256']}.{song['ext']}").read_bytes()
    finally:
        db.close()
    return resident, song, entry, blob


def _hostile_state(resident, song, entry, changes: list[dict[str, Any]]) -> dict[str, Any]:
    songs, entries = [song], [entry]
    for n, change in enumerate(changes, start=1):
        songs.append({**song, "id": song["id"] + n, **change})
        entries.append({**entry, "song_id": song["id"] + n})
    return {"version": 1, "residents": [resident], "songs": songs, "resident_songs": entries, "settings": {}}


@contextlib.contextmanager
def _box_against(tmp_path: Path, hub: FakeHub):
    data = tmp_path / "deep" / "box"
    (data / "media").mkdir(parents=True, exist_ok=True)
    config.save(data, config.BoxLink(hub=hub.url, box_id=1, credential="1.secret"))
    settings = AgentSettings(data=data, db_path=data / "library.db", media_dir=data / "media",
                             socket_path=data / "kiosk.sock", link=config.load(data))
    db = dbmod.connect(settings.db_path)
    client = HubClient(hub.url, settings.link.authorization)
    try:
        yield Agent(settings), client, db, data
    finally:
        client.close()
        db.close()


def test_a_hub_cannot_make_the_box_write_outside_its_folder_or_fill_its_disk(tmp_path, real_song, caplog):
    resident, song, entry, blob = real_song
    outside = tmp_path / "deep"                 # the box's data folder is deep/box
    outside.mkdir()
    (outside / "secret.txt").write_text("not a song")           # what "../../secret" + "txt" points at
    state = _hostile_state(resident, song, entry, [
        {"sha256": "../../../OUTSIDE", "ext": "planted", "size_bytes": 10 ** 12},
        {"sha256": "../../secret", "ext": "txt", "size_bytes": 10},
        {"sha256": "ab" * 32, "ext": "wav", "size_bytes": 10 ** 12},        # a fair name, a size no song has
        {"sha256": "cd" * 32, "ext": "wav", "size_bytes": "lots"},
    ])
    hub = FakeHub(state, {song["sha256"]: blob})
    caplog.set_level(logging.INFO, logger="evergreen.sync")
    try:
        with _box_against(tmp_path, hub) as (agent, client, db, data):
            assert agent.pull_state(client, db)
            with contextlib.suppress(HubUnreachable, files.Tampered):
                agent._fetch_step(client, db)
            # Nothing was written outside the box's folder, nor kept for a resume.
            assert not (outside / "OUTSIDE.planted.part").exists()
            assert not list(tmp_path.rglob("OUTSIDE*"))
            downloads = files.downloads_dir(data)
            assert not downloads.exists() or not any(downloads.iterdir())
            # Only the true song became a row; none points outside media/ or waits for ever.
            rows = db.execute("SELECT sha256, ext FROM songs").fetchall()
            assert rows == [(song["sha256"], song["ext"])]
            assert [s.song_id for s in library.resident_songs(db, resident["id"])] == [song["id"]]
            assert (data / "media" / f"{song['sha256']}.{song['ext']}").read_bytes() == blob
            assert not any("OUTSIDE" in p or "secret" in p or "abab" in p for p in hub.asked)
            assert agent.missing() == []
    finally:
        hub.close()
    refused = [r.getMessage() for r in caplog.records if "not taken" in r.getMessage()]
    assert len(refused) == 4, refused
    assert any("OUTSIDE" in line and "name" in line for line in refused)
    assert any("size" in line for line in refused)


def test_a_download_that_would_fill_the_disk_is_refused_before_a_byte_arrives(tmp_path, real_song):
    resident, song, entry, blob = real_song
    hub = FakeHub(_hostile_state(resident, song, entry, []), {song["sha256"]: blob})
    try:
        with _box_against(tmp_path, hub) as (agent, client, db, data):
            downloads = files.downloads_dir(data)
            with pytest.raises(files.NoRoom, match="room"):
                files.fetch(client, db, data / "media", downloads, sha256=song["sha256"], ext=song["ext"],
                            size=len(blob), room=lambda folder: len(blob) + files.KEEP_FREE - 1)
            assert hub.asked == [] and not list(downloads.glob("*.part"))
            with pytest.raises(files.Refused):
                files.fetch(client, db, data / "media", downloads, sha256="../../x", ext="wav", size=10)
            with pytest.raises(files.Refused):
                files.fetch(client, db, data / "media", downloads, sha256=song["sha256"], ext=song["ext"],
                            size=files.MAX_FILE_BYTES + 1)
            assert hub.asked == []
            # With room enough the same file comes in whole.
            target = files.fetch(client, db, data / "media", downloads, sha256=song["sha256"], ext=song["ext"],
                                 size=len(blob), room=lambda folder: len(blob) + files.KEEP_FREE)
            assert target.read_bytes() == blob
            assert hashlib.sha256(blob).hexdigest() == song["sha256"]
    finally:
        hub.close()
