"""Songs sent from a phone in pieces, on the real server: no request is over 8 MB, each piece
is checked against who sent it, and a dropped connection carries on from the last piece the
box has, ending with exactly the song that was sent."""
from __future__ import annotations

import hashlib
import socket

import pytest

from content.upload_pieces import PIECE_BYTES
from tests.live import LiveBrowser, serve
from tests.test_web_front_door import send_big
from tests.test_web_fixtures import FAMILY_PW, make_app, song_file, world  # noqa: F401


@pytest.fixture
def big_world(world):
    world.app = make_app(world.data, MAX_UPLOAD_BYTES=300 * 1024 * 1024)
    return world


def start(b: LiveBrowser, rid: int, name: str, size: int):
    b.get(f"/residents/{rid}/upload")
    return b.post(f"/residents/{rid}/uploads", {"name": name, "size": str(size)}, headers={"Accept": "application/json"})


def piece(b: LiveBrowser, rid: int, upload_id: str, offset: int, data: bytes):
    return b.request("POST", f"/residents/{rid}/uploads/{upload_id}/piece?offset={offset}", data,
                     {"Content-Type": "application/octet-stream", "X-CSRFToken": b.token, "Accept": "application/json"})


def dropped_piece(base: str, cookie: str, token: str, path: str, data: bytes) -> None:
    """Half a piece, then the connection drops (a phone leaving the Wi-Fi)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: kiosk\r\nContent-Type: application/octet-stream\r\n"
                   f"Content-Length: {len(data)}\r\nCookie: {cookie}\r\nX-CSRFToken: {token}\r\n\r\n").encode())
        s.sendall(data[: len(data) // 2])


def test_a_big_song_arrives_in_pieces_and_carries_on_after_a_dropped_connection(big_world, lib, tmp_path):
    world = big_world
    song = song_file(tmp_path, "long.wav", 440, seconds=130.0, title="Long song", artist="Band")   # ~23 MB
    body = song.read_bytes()
    assert len(body) > 2 * PIECE_BYTES
    rid = world.mary.id
    with serve(world.app) as base:
        anne = LiveBrowser(base)
        anne.login(world.mary_family.email, FAMILY_PW)
        # one request with the whole song is refused from its length: pieces only
        cookie = "; ".join(f"{c.name}={c.value}" for c in anne.jar)
        whole = send_big(base, f"/residents/{rid}/upload", PIECE_BYTES + 512 * 1024, cookie)
        assert whole.startswith(b"HTTP/1.1 413") and b"in pieces" in whole, whole[:300]
        started = start(anne, rid, "long.wav", len(body))
        assert started.status == 201, started.text
        upload_id = started.json()["id"]
        first = piece(anne, rid, upload_id, 0, body[:PIECE_BYTES])
        assert first.status == 200 and first.json()["received"] == PIECE_BYTES
        dropped_piece(base, cookie, anne.token, f"/residents/{rid}/uploads/{upload_id}/piece?offset={PIECE_BYTES}",
                      body[PIECE_BYTES:2 * PIECE_BYTES])
        status = anne.get(f"/residents/{rid}/uploads/{upload_id}", headers={"Accept": "application/json"})
        assert status.json()["received"] == PIECE_BYTES        # the half piece was never taken
        wrong = piece(anne, rid, upload_id, 0, body[:1000])
        assert wrong.status == 409 and wrong.json()["received"] == PIECE_BYTES
        offset = PIECE_BYTES
        while offset < len(body):
            answer = piece(anne, rid, upload_id, offset, body[offset:offset + PIECE_BYTES])
            assert answer.status == 200, answer.text
            offset = answer.json()["received"]
        done = anne.post(f"/residents/{rid}/uploads/{upload_id}/finish", headers={"Accept": "application/json"})
        result = done.json()["files"][0]
        assert result["status"] == "added", result
        stored = lib.db["songs"].get(result["song_id"])
        assert stored["sha256"] == hashlib.sha256(body).hexdigest() and stored["size_bytes"] == len(body)
        again = anne.post(f"/residents/{rid}/uploads/{upload_id}/finish", headers={"Accept": "application/json"})
        assert again.status == 404                               # finished uploads are gone
    assert not list((world.data / "upload-tmp" / "pieces").iterdir())


def test_nobody_else_can_add_to_or_finish_someone_elses_upload(big_world, tmp_path):
    world = big_world
    with serve(world.app) as base:
        anne = LiveBrowser(base)
        anne.login(world.mary_family.email, FAMILY_PW)
        upload_id = start(anne, world.mary.id, "a.wav", 3 * 1024 * 1024).json()["id"]
        ben = LiveBrowser(base)
        ben.login(world.bob_family.email, FAMILY_PW)
        ben.get(f"/residents/{world.bob.id}/upload")
        # Ben may not reach Mary at all, nor Anne's upload through Bob
        assert piece(ben, world.mary.id, upload_id, 0, b"x" * 1000).status == 404
        assert piece(ben, world.bob.id, upload_id, 0, b"x" * 1000).status == 404
        answer = send_big(base, f"/residents/{world.mary.id}/uploads/{upload_id}/piece?offset=0", 2 * 1024 * 1024)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        assert anne.get(f"/residents/{world.mary.id}/uploads/{upload_id}",
                        headers={"Accept": "application/json"}).json()["received"] == 0
