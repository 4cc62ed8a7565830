"""The admin on the real server (waitress on 127.0.0.1, as `python -m content.web` serves it)
and a small browser for it: cookies, the page's CSRF token, forms, JSON."""
from __future__ import annotations

import contextlib
import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Iterator

from content.web.__main__ import make_server

_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """The app served by waitress on a free port of 127.0.0.1; yields its base address."""
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(10)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class LiveBrowser:
    """Cookies kept, redirects not followed (a test looks at them), the last page's CSRF
    token sent back with each form, like a browser would."""

    def __init__(self, base: str, *handlers: urllib.request.BaseHandler) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect(),
                                                  *handlers)
        self.token: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                timeout: float = 60) -> Answer:
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                answer = Answer(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as err:
            answer = Answer(err.code, dict(err.headers), err.read())
        found = _TOKEN.search(answer.text) if answer.headers.get("Content-Type", "").startswith("text/html") else None
        if found:
            self.token = found.group(1)
        return answer

    def get(self, path: str, **kw) -> Answer:
        return self.request("GET", path, **kw)

    def post(self, path: str, fields: dict[str, str] | None = None, *, csrf: bool = True, **kw) -> Answer:
        fields = dict(fields or {})
        if csrf:
            if self.token is None:
                self.get("/login")
            fields.setdefault("csrf_token", self.token or "")
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **kw.pop("headers", {})}
        return self.request("POST", path, body, headers, **kw)

    def login(self, email: str, password: str) -> Answer:
        self.get("/login")
        answer = self.post("/login", {"email": email, "password": password})
        assert answer.status == 302, answer.text
        return answer
