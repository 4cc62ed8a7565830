"""Answers several pages give alike: a plain error (a page, or JSON for the uploader's
script), a file too big, a private file, and sizes in words."""
from __future__ import annotations

from typing import Any, Callable

from flask import current_app, flash, render_template, request

from content.db import LibraryError


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.headers.get("X-Requested-With") == "XMLHttpRequest"


def plain_error(title: str, message: str, status: int):
    """One sentence a family member can act on, as a page or as JSON for the uploader."""
    if wants_json():
        return {"ok": False, "error": message}, status
    return render_template("error.html", title=title, message=message), status


def size_words(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def too_big_words(config) -> str:
    """Why a request body was refused as too big, in words."""
    from content.upload_pieces import PIECE_BYTES
    song_limit = size_words(config["MAX_UPLOAD_BYTES"])
    if config["MAX_UPLOAD_BYTES"] <= PIECE_BYTES:
        return f"This file is too big. The largest song you can send is {song_limit}."
    return (f"This file is too big to send in one go (the most is {size_words(PIECE_BYTES)}). The upload page "
            f"sends bigger songs, up to {song_limit}, in pieces: please use it with JavaScript turned on.")


def too_big_response():
    return plain_error("Too big", too_big_words(current_app.config), 413)


def private_file(resp):
    """A resident's song or photo may be kept by the phone that fetched it for an hour, but
    never by a shared cache between (send_file would mark it public)."""
    resp.cache_control.public = False
    resp.cache_control.private = True
    resp.cache_control.max_age = 3600
    return resp


def public_link(path: str) -> str:
    """A link to hand to someone (an invite, a password reset): the configured public
    address and `path`, never the Host header of the request that asked for it."""
    from content.site import SiteConfig
    return SiteConfig(public_url=current_app.config["PUBLIC_URL"]).link(path)


def qr_svg(link: str):
    """The link as a QR code, as SVG markup to put in the page itself (the page's security
    policy allows no inline images or styles; an <svg> element with attributes is neither)."""
    import segno
    from markupsafe import Markup
    return Markup(segno.make(link, error="m").svg_inline(scale=5, dark="#000", light="#fff",
                                                           title="QR code of the link"))


def hand_over(link: str, subject: str, text: str, to: str = "") -> dict:
    """What a page needs to hand a link to someone from a phone (templates/_handover.html):
    the link, the message around it for the share sheet, email and text-message links that
    work without JavaScript (addressed to `to` when known), and the link as a QR code."""
    from urllib.parse import quote
    return {"link": link, "text": text, "subject": subject, "qr": qr_svg(link),
            "mailto": f"mailto:{quote(to, safe='@')}?subject={quote(subject)}&body={quote(text)}",
            "sms": f"sms:?&body={quote(text)}"}


def flash_outcome(change: Callable[[], Any], done: str | Callable[[Any], str]) -> bool:
    """A change a form asked for, told on the next page: its refusal in its own plain words,
    or `done` (made from what the change returned, when it is a function). True when made."""
    try:
        result = change()
    except LibraryError as exc:
        flash(str(exc))
        return False
    flash(done(result) if callable(done) else done)
    return True
