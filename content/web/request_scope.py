"""What each request owns, from its start to its end: its database connection (opened
on first use, closed at teardown, flaskr's way) and its upload's temporary file."""
from __future__ import annotations

import tempfile
from pathlib import Path

import sqlite_utils
from flask import Request, current_app, g

from content.db import connect


class UploadRequest(Request):
    """Uploaded files go straight to a temporary file in the data folder (never memory),
    deleted when the request ends, whatever happened."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        folder = Path(current_app.config["UPLOAD_TMP"])
        folder.mkdir(parents=True, exist_ok=True)
        spool = tempfile.NamedTemporaryFile(dir=folder, prefix="upload-", suffix=".part")
        # Kept on the request so close_spools removes it even when reading the form failed
        # half way (a full disk, a dropped connection) and no view ever saw it.
        self.__dict__.setdefault("_spools", []).append(spool)
        return spool


def close_spools(exc: BaseException | None = None) -> None:
    """End of a request: every upload spool file it opened is closed, and so deleted."""
    from flask import request
    for spool in request.__dict__.pop("_spools", []):
        try:
            spool.close()
        except OSError:
            pass


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
