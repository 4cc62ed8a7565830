"""Behind the hub's Caddy every request reaches the admin from 127.0.0.1. The login
throttles must still count per person: a stranger guessing a daughter's password slows
only the stranger, whatever X-Forwarded-For the stranger sends, and the daughter logs in
at once from her own phone. Without the proxy, the header is not believed at all."""
from __future__ import annotations

import functools
import http.client
import ssl
import urllib.request

from content import accounts, library
from tests.hubkit import Caddy, Hub, free_port
from tests import live
from tests.live import LiveBrowser
from tests.test_web_fixtures import make_app

PASSWORD = "a-long-family-password"


class FromAddress(urllib.request.HTTPSHandler):
    """HTTPS from a chosen loopback address (127.0.0.2, 127.0.0.3, ...): two people
    on two phones, as Caddy sees them."""

    def __init__(self, address: str, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self.address, self.ctx = address, context

    def https_open(self, req):
        conn = functools.partial(http.client.HTTPSConnection, source_address=(self.address, 0))
        return self.do_open(conn, req, context=self.ctx)


def _try(browser: LiveBrowser, public: str, email: str, password: str, forged: str | None = None):
    browser.get("/login")
    headers = {"Referer": public + "/login"}
    if forged:
        headers["X-Forwarded-For"] = forged
    return browser.post("/login", {"email": email, "password": password}, headers=headers)


def test_a_strangers_guesses_through_caddy_slow_only_the_stranger(tmp_path):
    https_port = free_port()
    hub = Hub(tmp_path / "hub").start(PUBLIC_URL=f"https://127.0.0.1:{https_port}", BEHIND_PROXY=True)
    try:
        caddy = Caddy(tmp_path, hub.port, https_port)
        try:
            mary = library.add_resident(hub.db, "Mary", birth_year=1938)
            accounts.create_user(hub.db, "staff@care.example", PASSWORD, "staff")
            accounts.create_user(hub.db, "anne@family.example", PASSWORD, "family", resident_ids=[mary.id])
            stranger = LiveBrowser(caddy.public, FromAddress("127.0.0.2", caddy.ssl))
            answers = [_try(stranger, caddy.public, "anne@family.example", f"guess-{i}", forged=f"198.51.100.{i}")
                       for i in range(accounts.FREE_TRIES + 1)]
            assert "Too many tries" in answers[-1].text, "the stranger's forged addresses did not help"
            anne = LiveBrowser(caddy.public, FromAddress("127.0.0.3", caddy.ssl))
            answer = _try(anne, caddy.public, "anne@family.example", PASSWORD)
            assert answer.status == 302, answer.text
        finally:
            caddy.close()
    finally:
        hub.close()


def test_without_a_proxy_a_forged_forwarded_address_is_not_believed(lib):
    mary = library.add_resident(lib.db, "Mary", birth_year=1938)
    accounts.create_user(lib.db, "staff@care.example", PASSWORD, "staff")
    accounts.create_user(lib.db, "anne@family.example", PASSWORD, "family", resident_ids=[mary.id])
    with live.serve(make_app(lib.data)) as base:
        stranger = LiveBrowser(base)
        for i in range(accounts.FREE_TRIES + 1):
            answer = _try(stranger, base, "anne@family.example", f"guess-{i}", forged=f"198.51.100.{i}")
        assert "Too many tries" in answer.text
