"""What runs around every view: the size, access and CSRF checks before it, the plain
error pages, the security headers after it, and the database closed at the end."""
from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import InternalServerError, SecurityError
from werkzeug.routing import IntegerConverter

from content import storage
from content.web.answers import plain_error, too_big_response
from content.web.guard import check_access, load_user
from content.web.request_scope import close_db, close_spools

CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
HSTS = "max-age=31536000"


class StoredId(IntegerConverter):
    """`<int:...>` in our addresses: a number SQLite can hold. A longer one is simply not
    found (404), instead of an overflow error when it reaches the database."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def install_checks(app: Flask) -> None:
    """Before any view (and before any blueprint's routes are added, for the converter)."""
    # A Host this app does not answer to (TRUSTED_HOSTS on a hub): refused first, for every
    # method, with the same plain 400 a GET gets. Later checks would answer with a page,
    # and no page (nor any link on it) can be built for an address that is not ours.
    @app.before_request
    def refuse_wrong_host():
        if isinstance(request.routing_exception, SecurityError):
            raise request.routing_exception
        return None

    # Refuse a too-big upload from its declared length, before the body is read (and before
    # the CSRF check, which would read the form).
    @app.before_request
    def refuse_too_big():
        if request.content_length is not None and request.content_length > app.config["MAX_CONTENT_LENGTH"]:
            return too_big_response()
        return None

    csrf = CSRFProtect(app)
    app.before_request(load_user)

    @app.before_request
    def access_then_csrf():
        return check_access(csrf)

    app.teardown_request(close_spools)
    app.teardown_appcontext(close_db)
    app.url_map.converters["int"] = StoredId


def install_answers(app: Flask) -> None:
    """Plain error pages and the headers every answer carries."""
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return plain_error("Please try again",
                           "This page had expired. Please go back, reload the page and try again.", 400)

    @app.errorhandler(413)
    def too_big(e):
        return too_big_response()

    @app.errorhandler(403)
    def forbidden(e):
        return plain_error("Not for this account", "This page is for care staff.", 403)

    @app.errorhandler(404)
    def not_found(e):
        return plain_error("Not found", "There is nothing here, or it is not shared with your account.", 404)

    @app.errorhandler(InternalServerError)
    def unexpected(e):
        # Anything a view did not expect: one plain sentence, never a bare server error.
        if storage.full_explains(getattr(e, "original_exception", None), current_app.config["DATA_DIR"]):
            return plain_error("Storage full", storage.FULL_WORDS, 507)
        return plain_error("Something went wrong",
                           "Something went wrong on the music box. Please try again in a moment; "
                           "if it keeps happening, tell the care staff.", 500)

    @app.context_processor
    def storage_warning():
        # Staff see it on every page from NEARLY_FULL on, while there is still room to act.
        user = getattr(g, "user", None)
        if user is None or not user.is_staff:
            return {}
        try:
            used = storage.usage(current_app.config["DATA_DIR"])
        except OSError:
            return {}
        return {"storage_warning": used.words() if used.nearly_full else None}

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        # Pages and scripts only from this box, no inline code: a song title or note that
        # slipped past escaping still could not run.
        resp.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if resp.mimetype in ("text/html", "application/json"):
            # A page names a resident and their songs: never kept by the phone or anything between.
            resp.headers["Cache-Control"] = "no-store"
        if app.config.get("SESSION_COOKIE_SECURE"):
            # Behind HTTPS (a hub): browsers use HTTPS for this name from now on.
            resp.headers.setdefault("Strict-Transport-Security", HSTS)
        return resp
