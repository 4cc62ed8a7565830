"""The server's front door: waitress set up for a small box facing the internet, and who is
asking checked from a request's headers before a large body is taken in.

waitress reads a whole request, spooling a big body to disk, before the app sees it. So a
body over SMALL_BODY is let in only once its headers show a sender who may send files to
that address (a signed-in account that may see the resident, on a view that takes files);
anyone else is answered at once and the connection closed, having cost at most SMALL_BODY.
"""
from __future__ import annotations

from typing import Callable

import waitress
from flask import Flask, current_app, g
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.task import ErrorTask
from waitress.utilities import Error, RequestEntityTooLarge, RequestHeaderFieldsTooLarge
from werkzeug.exceptions import HTTPException
from werkzeug.test import EnvironBuilder

from content.web.answers import too_big_words
from content.web.guard import access_problem, box_from_header, load_user

SMALL_BODY = 1024 * 1024          # what an unchecked body may cost: about 1 MB, memory or disk
# For a Raspberry Pi on the internet: enough connections for a care home's phones and a
# proxy, idle ones dropped soon (a slow phone still sending is not idle), small headers.
CONNECTION_LIMIT = 400            # waitress uses select(): well under its 1,024 descriptors
CHANNEL_TIMEOUT_S = 30
CLEANUP_INTERVAL_S = 5
MAX_HEADER_BYTES = 64 * 1024

_WORDS = {
    401: "Please log in, then send the file again.",
    403: "This is for care staff.",
    404: "There is nothing here, or it is not shared with your account.",
    405: "This address does not take that.",
    413: "That is more than this address takes.",
}


class Refused(Error):
    """An answer given from the headers alone, in plain words."""

    def __init__(self, code: int, body: str) -> None:
        super().__init__(body)
        self.code = code
        self.reason = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
                       413: "Request Entity Too Large", 431: "Request Header Fields Too Large",
                       501: "Not Implemented"}.get(code, "Bad Request")

    def to_response(self, ident=None):
        return f"{self.code} {self.reason}", [("Content-Type", "text/plain; charset=utf-8")], self.body.encode()


def refusal_before_body(app: Flask, method: str, path: str, query: str, headers: dict[str, str]) -> Refused | None:
    """Would the app take a large body for this request? Decided from the method, address
    and cookie alone, with the same access rules the views use."""
    builder = EnvironBuilder(path=path, query_string=query, method=method,
                             headers={"Cookie": headers.get("COOKIE", ""), "Host": "front-door"})
    with app.request_context(builder.get_environ()):
        try:
            endpoint, view_args = current_app.url_map.bind("front-door").match(path, method=method)
        except HTTPException as exc:
            return Refused(exc.code or 400, _WORDS.get(exc.code or 400, "That address cannot be used."))
        view = current_app.view_functions.get(endpoint)
        if getattr(view, "access", None) == "box":
            # A music box on a hub: its bearer credential, not a cookie, says who it is.
            if box_from_header(headers.get("AUTHORIZATION", "")) is None:
                return Refused(401, _WORDS[401])
            return None if getattr(view, "accepts_files", False) else Refused(413, _WORDS[413])
        load_user()
        problem = access_problem(view, view_args)
        if problem is not None:
            return Refused(problem, _WORDS[problem])
        if not getattr(view, "accepts_files", False) or g.user is None:
            return Refused(413, _WORDS[413])
    return None


def _parser_class(gate: Callable[[str, str, str, dict[str, str]], Refused | None]) -> type[HTTPRequestParser]:
    class GatedParser(HTTPRequestParser):
        _checked = False

        def received(self, data: bytes) -> int:
            consumed = super().received(data)
            if (self.headers_finished and not self.completed and not self._checked
                    and (self.chunked or self.content_length > SMALL_BODY)):
                self._checked = True
                refusal = gate(self.command, self.path, self.query, self.headers)
                if refusal is not None:
                    self.error = refusal
                    self.completed = True
                    return len(data)   # the rest of what arrived is dropped, and nothing more is read
            return consumed
    return GatedParser


class _PlainTooBigTask(ErrorTask):
    """waitress's own answers (a body or an address over the limit, a garbled request) with
    a sentence a family member can read."""

    words = "This file is too big."

    def execute(self):
        error = self.request.error
        if isinstance(error, RequestEntityTooLarge):
            self.request.error = Refused(413, self.words)
        elif isinstance(error, RequestHeaderFieldsTooLarge):
            self.request.error = Refused(431, "That address is too long. Please go back and try a shorter search.")
        elif not isinstance(error, Refused):
            self.request.error = Refused(error.code, "The box could not understand that request. "
                                         "Please go back and try again.")
        super().execute()


HUB_CONNECTIONS = 2000      # each box keeps two or three connections open; families add theirs


def make_server(app: Flask, host: str, port: int, threads: int = 4):
    """The waitress server for this app (port 0: any free port; see .effective_port).

    Its body limit is the app's own: a body the app would refuse is refused from its
    declared length, never stored (waitress refuses a length equal to its limit, hence + 1)."""
    # A hub holds a connection or two open for every box, far past a box's own limit and
    # past what select() can watch, hence poll().
    hub = bool(app.config.get("HUB"))
    # Behind the hub's Caddy every request comes from 127.0.0.1; Caddy puts the person's own
    # address in X-Forwarded-For (replacing whatever they sent), so waitress takes it from
    # there and the login throttles count per person. Otherwise waitress drops that header.
    proxy = (dict(trusted_proxy="127.0.0.1", trusted_proxy_headers={"x-forwarded-for"}, trusted_proxy_count=1)
             if app.config.get("BEHIND_PROXY") else {})
    server = waitress.create_server(app, host=host, port=port, threads=threads, **proxy,
                                    max_request_body_size=app.config["MAX_CONTENT_LENGTH"] + 1,
                                    max_request_header_size=MAX_HEADER_BYTES,
                                    connection_limit=HUB_CONNECTIONS if hub else CONNECTION_LIMIT,
                                    asyncore_use_poll=hub, channel_timeout=CHANNEL_TIMEOUT_S,
                                    cleanup_interval=CLEANUP_INTERVAL_S, ident="evergreen")
    task = type("TooBigTask", (_PlainTooBigTask,), {"words": too_big_words(app.config)})

    def gate(method: str, path: str, query: str, headers: dict[str, str]) -> Refused | None:
        return refusal_before_body(app, method, path, query, headers)

    server.channel_class = type("Channel", (HTTPChannel,), {"error_task_class": task,
                                                           "parser_class": _parser_class(gate)})
    return server
