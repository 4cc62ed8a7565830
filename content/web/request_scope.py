"""What every request shares: its database connection, the upload stream to disk, and
the answers several pages give (too big, JSON or HTML)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import sqlite_utils
from flask import Request, current_app, g, render_template, request

from content.db import connect


class UploadRequest(Request):
    """Uploaded files go straight to a temporary file in the data folder (never memory),
    deleted when the request ends, whatever happened."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        folder = Path(current_app.config["UPLOAD_TMP"])
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=folder, prefix="upload-", suffix=".part")


def clear_upload_tmp(folder: Path) -> None:
    """Leftovers from an admin that was killed mid-upload."""
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("upload-*"):
        leftover.unlink(missing_ok=True)


def get_db() -> sqlite_utils.Database:
    if "db" not in g:
        g.db = connect(current_app.config["DB_PATH"], migrate=False)
    return g.db


def close_db(exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.headers.get("X-Requested-With") == "XMLHttpRequest"


def size_words(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def too_big_response():
    limit = size_words(current_app.config["MAX_UPLOAD_BYTES"])
    msg = f"This file is too big. The largest song you can send is {limit}."
    if wants_json():
        return {"ok": False, "error": msg}, 413
    return render_template("error.html", title="Too big", message=msg), 413


def private_file(resp):
    """A resident's song or photo may be kept by the phone that fetched it for an hour, but
    never by a shared cache between (send_file would mark it public)."""
    resp.cache_control.public = False
    resp.cache_control.private = True
    resp.cache_control.max_age = 3600
    return resp
