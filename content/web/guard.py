"""Who is asking, and what they may see.

Every view is wrapped in exactly one of these decorators, which also records its access
rule on the function (`view.access`), so the tests can walk the app's url_map and check
that no route escapes them:
  public          anyone (login, first-run setup, invite links, static files)
  login_required  any signed-in account
  staff_required  staff only (403 for family)
  resident_view   a resident-scoped page: `rid` in the URL; 404 unless the account may see them
  staff_resident_view  a resident-scoped page for staff only (a care decision, an export):
                  403 for family, 404 unless the account may see the resident
  song_file_view  a stored song file; 404 unless a resident the account may see has it
  box_required    a music box on a hub, by its bearer credential (no cookies, so no CSRF)
  pairing         a box exchanging its one-time pairing code for a credential: anyone, no
                  cookies (so no CSRF), tries slowed like logins
"""
from __future__ import annotations

import functools
import unicodedata
from typing import Callable
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for

from content import accounts, library, listings
from content.web import kept_forms
from content.web.answers import plain_error, wants_json
from content.web.request_scope import get_db


def load_user() -> None:
    g.user = None
    if request.endpoint == "static":
        return
    uid = session.get("uid")
    if uid is None:
        return
    user = accounts.get_user(get_db(), uid)
    if user is None or user.disabled or session.get("stamp") != user.session_stamp:
        session.clear()
        return
    g.user = user


# Only these read; every other method must carry the CSRF token. A reading request may not
# carry a body at all: a HEAD (or GET) with a form or a file in it is refused, never taken
# for a POST by a view.
READING_METHODS = frozenset({"GET", "HEAD"})


def check_access(csrf) -> object | None:
    """Runs after load_user and before any view reads the request body.

    The same rule the view's decorator applies, checked early: anyone not allowed is
    answered from the URL alone, so an anonymous (or someone else's) upload never reaches
    the disk. Only then is the CSRF token checked, which parses the form."""
    if request.method in READING_METHODS and (request.content_length or "Transfer-Encoding" in request.headers):
        return plain_error("Not sent that way", "Pages are only read this way; forms and files are sent "
                           "with the page's own buttons.", 400)
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    access = getattr(view, "access", None)
    if access == "box":
        return _check_box()
    if access == "pairing":
        return None
    problem = access_problem(view, request.view_args or {})
    if problem == 401:
        return _to_login()
    if problem is not None:
        abort(problem)
    if request.method not in READING_METHODS:
        csrf.protect()
    return None


def access_problem(view: Callable | None, view_args: dict) -> int | None:
    """The view's access rule for the account in `g.user`: None when allowed, else the
    status to answer (401 log in first, 403 staff only, 404 not a resident they may see)."""
    access = getattr(view, "access", None)
    if view is None or access == "public":
        return None
    if g.user is None:
        return 401
    if access in ("staff", "staff_resident") and not g.user.is_staff:
        return 403
    if access in ("resident", "staff_resident") and not accounts.may_see(get_db(), g.user, view_args.get("rid", -1)):
        return 404
    return None


def accepts_files(view: Callable) -> Callable:
    """Marks a view that may be sent more than a small form (a song, a photo): the server
    takes in such a body only after checking, from its headers, that the sender may."""
    view.accepts_files = True
    return view


def sign_in(user: accounts.User) -> None:
    kept = kept_forms.carried_over(user.id)   # this person's words typed before the login
    session.clear()
    if kept:
        session[kept_forms.KEY] = kept
    session.permanent = True
    session["uid"] = user.id
    session["stamp"] = user.session_stamp
    # The session's CSRF token names its account, so words sent after it ends can be kept
    # for that account alone (see kept_forms).
    session[kept_forms.CSRF_KEY] = kept_forms.session_token(user.id)


def safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted login link cannot send someone elsewhere. Control
    characters, spaces and backslashes are refused too: a line break cannot go in a header,
    and browsers read "/\\host" as "//host"."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(c.isspace() or unicodedata.category(c).startswith("C") for c in target)
            and not urlsplit(target).netloc):
        return target
    return url_for("residents.home")


def _mark(view: Callable, access: str) -> Callable:
    view.access = access
    return view


def public(view: Callable) -> Callable:
    return _mark(view, "public")


def _to_login():
    if wants_json():
        return {"ok": False, "error": "Please log in again."}, 401
    kept_forms.keep_posted_form()
    return redirect(url_for("account.login", next=request.full_path.rstrip("?")))


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return _to_login()
        return view(**kwargs)
    return _mark(wrapped, "user")


def staff_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return _to_login()
        if not g.user.is_staff:
            abort(403)
        return view(**kwargs)
    return _mark(wrapped, "staff")


def _resident_page(view: Callable, *, staff_only: bool, kind: str) -> Callable:
    """Passes `resident` (a library.Resident) instead of `rid`, once the account may see
    them; anyone else gets the same 404 as for no one. With `staff_only`, family get 403
    before anything is read."""
    @functools.wraps(view)
    def wrapped(rid: int, **kwargs):
        if g.user is None:
            return _to_login()
        if staff_only and not g.user.is_staff:
            abort(403)
        db = get_db()
        if not accounts.may_see(db, g.user, rid):
            abort(404)
        return view(resident=library.get_resident(db, rid), **kwargs)
    return _mark(wrapped, kind)


def resident_view(view: Callable) -> Callable:
    """A resident's page: for staff, and for the family linked to that resident."""
    return _resident_page(view, staff_only=False, kind="resident")


def staff_resident_view(view: Callable) -> Callable:
    """Like resident_view, for staff only: family get 403 before anything is read."""
    return _resident_page(view, staff_only=True, kind="staff_resident")


def song_file_view(view: Callable) -> Callable:
    """A stored song file (`name` = "<sha256>.<ext>"): only for accounts that may see a
    resident who has that song."""
    @functools.wraps(view)
    def wrapped(name: str, **kwargs):
        if g.user is None:
            return _to_login()
        sha256 = name.partition(".")[0]
        if not accounts.may_hear(get_db(), g.user, sha256):
            abort(404)
        return view(name=name, **kwargs)
    return _mark(wrapped, "song_file")


def box_from_header(authorization: str) -> int | None:
    """The paired box a `Bearer <credential>` header belongs to, or None."""
    kind, _, credential = (authorization or "").partition(" ")
    if kind.lower() != "bearer" or not credential.strip():
        return None
    from content.hub import boxes
    return boxes.authenticate(get_db(), credential.strip())


def _check_box():
    """A box proves who it is with the credential it got when it was paired; anything else
    gets a 401 and nothing more, before any body is read."""
    g.box_id = box_from_header(request.headers.get("Authorization", ""))
    if g.box_id is None:
        return {"ok": False, "error": "This music box is not paired with this hub."}, 401
    return None


def pairing(view: Callable) -> Callable:
    return _mark(view, "pairing")


def box_required(view: Callable) -> Callable:
    """A hub endpoint for paired music boxes: `g.box_id` is the box asking."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.get("box_id") is None:
            return {"ok": False, "error": "This music box is not paired with this hub."}, 401
        return view(**kwargs)
    return _mark(wrapped, "box")


def resident_song_or_404(resident_id: int, song_id: int) -> dict:
    row = listings.resident_song(get_db(), resident_id, song_id)
    if row is None:
        abort(404)
    return row
