"""The admin's defences, each tested the way someone trying to get round it would: uploads
from nobody, edits that reach another family's relative, a cookie kept after logging out,
a red flag undone, guesses sent all at once, crafted numbers and links."""
from __future__ import annotations

import io
import socket
import threading

import pytest

from content.web.__main__ import make_server
from tests.test_web_fixtures import world  # noqa: F401


def _multipart(fields: dict[str, str], filename: str, payload: bytes) -> tuple[bytes, str]:
    boundary = "evergreen-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
                 f'Content-Type: audio/wav\r\n\r\n'.encode() + payload + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _stored(world) -> tuple[list[str], list[str]]:
    tmp = world.data / "upload-tmp"
    return (sorted(p.name for p in tmp.iterdir()) if tmp.exists() else [],
            sorted(p.name for p in world.media.iterdir()))


# --- 1. uploads from people who may not upload ---------------------------------------------

@pytest.mark.parametrize("who", ["anonymous", "another family"])
def test_an_upload_from_someone_not_allowed_is_turned_away_unread(world, who):
    before = _stored(world)
    c = world.client(None if who == "anonymous" else world.mary_family)
    c.get("/login")  # a real token, from a public page
    body, ctype = _multipart({"csrf_token": c.token}, "song.wav", b"RIFF" + b"x" * 2_000_000)
    stream = io.BytesIO(body)
    resp = c.c.post(f"/residents/{world.bob.id}/upload", input_stream=stream, content_type=ctype,
                    content_length=len(body))
    if who == "anonymous":
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    else:
        assert resp.status_code == 404
    assert stream.tell() == 0, "the body was read before checking who was asking"
    assert _stored(world) == before


def _declare(port: int, length: int, path: str) -> bytes:
    """Send only the headers of an upload of `length` bytes; return the server's first answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: kiosk\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                   f"Content-Length: {length}\r\n\r\n").encode())
        answer = b""
        try:
            while chunk := s.recv(4096):
                answer += chunk
        except socket.timeout:
            pass  # the server was waiting for the body instead of answering
        return answer


def test_the_real_server_refuses_a_body_over_the_apps_limit_from_its_length(world):
    srv = make_server(world.app, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        limit = world.app.config["MAX_CONTENT_LENGTH"]
        answer = _declare(srv.effective_port, limit + 1, f"/residents/{world.bob.id}/upload")
    finally:
        srv.close()
        thread.join(5)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert b"This file is too big. The largest song you can send is 4 MB." in answer
