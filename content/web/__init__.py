"""The family and staff admin: a Flask app, server-rendered, mobile first.

`create_app(test_config)` builds it (flaskr-style); `python -m content.web` serves it with
waitress. Blueprints by area: account (login, setup, invites), residents, songs, upload,
kiosk (now playing and the on-screen button panel).
"""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.routing import IntegerConverter

from content import accounts, paths
from content.db import connect
from content.web import request_scope as store
from content.web.guard import check_access, load_user, public

log = logging.getLogger("evergreen.admin")

DEFAULT_MAX_UPLOAD_MB = 300
CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"


class StoredId(IntegerConverter):
    """`<int:...>` in our addresses: a number SQLite can hold. A longer one is simply not
    found (404), instead of an overflow error when it reaches the database."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def _secret_key(data: Path) -> str:
    """A key kept in the data folder, so sessions survive a restart of the admin."""
    key_file = data / "admin_secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    tmp = key_file.with_name(f".{key_file.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, key_file)  # first writer wins; a second admin starting at once reads it
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return key_file.read_text().strip()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.request_class = store.UploadRequest
    cfg = dict(test_config or {})
    data = Path(cfg.get("DATA_DIR") or paths.data_dir())
    data.mkdir(parents=True, exist_ok=True)
    max_upload = int(cfg.get("MAX_UPLOAD_BYTES") or DEFAULT_MAX_UPLOAD_MB * 1024 * 1024)
    app.config.from_mapping(
        DATA_DIR=data,
        DB_PATH=Path(cfg.get("DB_PATH") or paths.db_path(data)),
        MEDIA_DIR=Path(cfg.get("MEDIA_DIR") or paths.media_dir(data)),
        SOCKET_PATH=Path(cfg.get("SOCKET_PATH") or paths.socket_path(data)),
        UPLOAD_TMP=data / "upload-tmp",
        MAX_UPLOAD_BYTES=max_upload,
        # The form around a file adds a little; anything past this is refused unread.
        MAX_CONTENT_LENGTH=max_upload + 256 * 1024,
        MIN_SONG_SECONDS=None,
        PAGE_SIZE=100,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Two weeks without a visit and the phone must log in again: a family member who
        # comes back often stays in, a phone that was lost or handed on does not for long.
        PERMANENT_SESSION_LIFETIME=14 * 24 * 3600,
        WTF_CSRF_TIME_LIMIT=None,   # a family member may leave the page open for hours
        # The token is checked in guard.check_access, after we know who is asking, so an
        # anonymous upload is turned away before its body is read.
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    app.config.update({k: v for k, v in cfg.items() if k not in ("DATA_DIR", "MAX_UPLOAD_BYTES")})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(data)
    app.config["MEDIA_DIR"].mkdir(parents=True, exist_ok=True)
    store.clear_upload_tmp(app.config["UPLOAD_TMP"])

    db = connect(app.config["DB_PATH"])  # applies migrations once, at start
    try:
        if not accounts.has_staff(db):
            code = accounts.new_setup_code(db)
            log.warning("No staff account yet. Open /setup in a browser and enter this one-time code: %s", code)
    finally:
        db.close()

    # Refuse a too-big upload from its declared length, before the body is read (and before
    # the CSRF check, which would read the form).
    @app.before_request
    def refuse_too_big():
        if request.content_length is not None and request.content_length > app.config["MAX_CONTENT_LENGTH"]:
            return store.too_big_response()
        return None

    csrf = CSRFProtect(app)
    app.before_request(load_user)

    @app.before_request
    def access_then_csrf():
        return check_access(csrf)
    app.teardown_appcontext(store.close_db)

    app.url_map.converters["int"] = StoredId
    from content.web import account_pages, kiosk_pages, resident_pages, song_pages, upload_pages
    for module in (account_pages, resident_pages, song_pages, upload_pages, kiosk_pages):
        app.register_blueprint(module.bp)
    app.view_functions["static"] = public(app.view_functions["static"])

    def plain_error(title: str, message: str, status: int):
        """One sentence a family member can act on, as a page or as JSON for the uploader."""
        if store.wants_json():
            return {"ok": False, "error": message}, status
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return plain_error("Please try again",
                           "This page had expired. Please go back, reload the page and try again.", 400)

    @app.errorhandler(413)
    def too_big(e):
        return store.too_big_response()

    @app.errorhandler(403)
    def forbidden(e):
        return plain_error("Not for this account", "This page is for care staff.", 403)

    @app.errorhandler(404)
    def not_found(e):
        return plain_error("Not found", "There is nothing here, or it is not shared with your account.", 404)

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
        return resp

    return app
