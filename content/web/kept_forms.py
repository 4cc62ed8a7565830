"""Words typed into a form when the session had already ended are not lost: the login page
comes first, and the words wait for it.

With JavaScript (most phones), static/draft.js keeps what is typed in the tab's own storage
and sends it again by itself once the person is back on the page after logging in. Without
it, a small plain form (not a file) is kept in the signed session cookie (no disk is used
for a request from no one), carried through the login, and shown again filled in on the
page it came from, to be saved with one tap."""
from __future__ import annotations

import json
from typing import Any

from flask import request, session

KEY = "kept_form"
MOST_BYTES = 2500      # a session cookie holds about 4 KB in all


KEPT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def keep_posted_form() -> None:
    """Called when a POST is sent to log in first: keep its typed fields for after the login.
    A form that can carry a photo (multipart) is kept when it is small, that is when no file
    was chosen; a file itself is never kept."""
    if request.method != "POST" or request.mimetype not in KEPT_TYPES:
        return
    if request.content_length is None or request.content_length > 4 * MOST_BYTES:
        return
    fields = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if fields and len(json.dumps(fields).encode()) <= MOST_BYTES:
        session[KEY] = {"path": request.path, "fields": fields}


def carried_over() -> dict[str, Any] | None:
    """What was kept, to put back into the fresh session a login starts."""
    kept = session.get(KEY)
    return kept if isinstance(kept, dict) else None


def take() -> dict[str, str] | None:
    """The fields kept for this page, once."""
    kept = session.get(KEY)
    if not isinstance(kept, dict) or kept.get("path") != request.path:
        return None
    session.pop(KEY)
    fields = kept.get("fields")
    return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else None
