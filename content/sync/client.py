"""HTTP to the hub, from the standard library: one kept-alive connection per client (each
of the agent's loops has its own), the box's bearer credential on every request, and a
private CA for a hub on `tls internal`.

http.client rather than a third-party client: the agent needs only GET/POST, Range and
conditional headers, and a box's Python environment stays smaller without one.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlsplit

USER_AGENT = "evergreen-box"


class HubUnreachable(Exception):
    """The hub could not be reached or did not answer; the box carries on and tries later."""


class HubRefused(Exception):
    """The hub turned the box away (its credential is wrong or the box was revoked)."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode() or "null")


class HubClient:
    def __init__(self, hub: str, authorization: str | None = None, *, ca_file: str | None = None,
                 timeout: float = 30.0) -> None:
        parts = urlsplit(hub)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{hub} is not a web address (it should start with https://).")
        self.hub = hub.rstrip("/")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._auth = authorization
        self._timeout = timeout
        self._ssl = None
        if parts.scheme == "https":
            self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._scheme == "https":
                self._conn = http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._ssl)
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        self._conn.timeout = timeout
        if self._conn.sock is not None:
            self._conn.sock.settimeout(timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self._auth:
            headers["Authorization"] = self._auth
        headers.update(extra or {})
        return headers

    @contextlib.contextmanager
    def open(self, method: str, path: str, *, body: bytes | Any = None, headers: dict[str, str] | None = None,
             timeout: float | None = None) -> Iterator[http.client.HTTPResponse]:
        """A response to read as a stream (media); the connection is dropped if it is not
        read to the end."""
        conn = self._connection(timeout or self._timeout)
        try:
            conn.request(method, self._prefix + path, body=body, headers=self._headers(headers))
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            self.close()
            raise HubUnreachable(f"The hub at {self.hub} could not be reached ({exc}).") from None
        if resp.status in (401, 403):
            resp.read()
            raise HubRefused("The hub does not accept this box any more (it may have been revoked): "
                             "pair it again with a new code.")
        try:
            yield resp
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            self.close()
            raise HubUnreachable(f"The connection to the hub broke ({exc}).") from None
        finally:
            if not resp.isclosed():
                self.close()

    def call(self, method: str, path: str, payload: Any = None, *, headers: dict[str, str] | None = None,
             timeout: float | None = None, raw: bytes | None = None) -> Answer:
        extra = dict(headers or {})
        body = raw
        if payload is not None:
            body = json.dumps(payload).encode()
            extra["Content-Type"] = "application/json"
        with self.open(method, path, body=body, headers=extra, timeout=timeout) as resp:
            try:
                data = resp.read()
            except (OSError, http.client.HTTPException, socket.timeout) as exc:
                self.close()
                raise HubUnreachable(f"The hub's answer was cut off ({exc}).") from None
            return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
