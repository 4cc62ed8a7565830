"""Words typed into a form when the session had already ended are not lost: the login page
comes first, and the words wait for it.

With JavaScript (most phones), static/draft.js keeps what is typed in the tab's own storage
and sends it again by itself once the person is back on the page after logging in. Without
it, a small plain form (not a file) is kept in the signed session cookie (no disk is used
for a request from no one), carried through the login, and shown again filled in on the
page it came from, to be saved with one tap.

Only words that came from one of our own pages, typed by someone who was signed in, are
kept, and only that same person gets them back:
- the form must carry the CSRF token of a signed-in session. Each signed-in session's token
  names its account and is sealed with the app's secret key (`session_token`), so it still
  says whose it was after the session itself is gone (an expired cookie, a logout on
  another device). A stranger's token, or none, keeps nothing.
- a POST from another site (its Origin or Referer is not our address) never touches the
  session, so it can neither plant words nor replace a signed-in person's cookie.
- the words are kept with the account's id, and a login by anyone else drops them."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request, session
from itsdangerous import BadData, URLSafeTimedSerializer

KEY = "kept_form"
CSRF_KEY = "csrf_token"           # where Flask-WTF keeps the session's raw token
CSRF_SALT = "wtf-csrf-token"      # Flask-WTF's salt for the signed token a form carries
MOST_BYTES = 2500      # a session cookie holds about 4 KB in all


KEPT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _seal(user_id: int, nonce: str) -> str:
    key = str(current_app.secret_key).encode()
    return hmac.new(key, f"kept-form:{user_id}.{nonce}".encode(), hashlib.sha256).hexdigest()


def session_token(user_id: int) -> str:
    """A signed-in session's raw CSRF token: "<user id>.<random>.<seal>"."""
    nonce = secrets.token_hex(16)
    return f"{user_id}.{nonce}.{_seal(user_id, nonce)}"


def _token_owner(signed: str) -> int | None:
    """The account whose signed-in session issued this form token, or None."""
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    try:
        raw = URLSafeTimedSerializer(secret, salt=CSRF_SALT).loads(signed)
    except BadData:
        return None
    uid, _, rest = str(raw).partition(".")
    nonce, _, seal = rest.partition(".")
    if not uid.isdigit() or not nonce or not hmac.compare_digest(seal, _seal(int(uid), nonce)):
        return None
    return int(uid)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def from_another_site() -> bool:
    """Did a page on another site send this request? Browsers say where a form came from
    in Origin (or, lacking it, Referer); ours are the public address and the address the
    request was sent to. A request that says neither is left to the token check."""
    sent_from = request.headers.get("Origin")
    if sent_from is None:
        referer = request.headers.get("Referer")
        if referer is None:
            return False
        sent_from = _origin(referer)
    ours = {_origin(request.host_url)}
    if current_app.config.get("PUBLIC_URL"):
        ours.add(_origin(current_app.config["PUBLIC_URL"]))
    return sent_from.lower() not in ours


def keep_posted_form() -> None:
    """Called when a POST is sent to log in first: keep its typed fields for after the login,
    when the form came from our own page in a session that was signed in (see the module's
    docstring). A form that can carry a photo (multipart) is kept when it is small, that is
    when no file was chosen; a file itself is never kept."""
    if request.method != "POST" or request.mimetype not in KEPT_TYPES or from_another_site():
        return
    if request.content_length is None or request.content_length > 4 * MOST_BYTES:
        return
    owner = _token_owner(request.form.get("csrf_token", ""))
    if owner is None:
        return
    fields = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if fields and len(json.dumps(fields).encode()) <= MOST_BYTES:
        session[KEY] = {"path": request.path, "fields": fields, "uid": owner}


def carried_over(user_id: int) -> dict[str, Any] | None:
    """What was kept for this account, to put back into the fresh session its login starts."""
    kept = session.get(KEY)
    return kept if isinstance(kept, dict) and kept.get("uid") == user_id else None


def take() -> dict[str, str] | None:
    """The fields kept for this page, once."""
    kept = session.get(KEY)
    if not isinstance(kept, dict) or kept.get("path") != request.path:
        return None
    session.pop(KEY)
    fields = kept.get("fields")
    return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else None
