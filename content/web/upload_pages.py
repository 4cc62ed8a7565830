"""Adding songs from a phone: one file per request when JavaScript is on (so each file has
its own progress bar), all chosen files in one plain form post when it is not.

Files arrive in a temporary file in the data folder (see store.UploadRequest), go through
the same ingest as the command line, and the temporary file is deleted when the request
ends, whatever happened.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, render_template, request

from content import ingest, tags
from content.probe import Prober
from content.web.guard import accepts_files, resident_view
from content.era.lookalike import find_lookalikes
from content.web.answers import size_words, wants_json
from content.web.request_scope import get_db

bp = Blueprint("upload", __name__)
log = logging.getLogger("evergreen.admin")


def _song_words(title: str, artist: str, year: int | None) -> str:
    words = f"“{title}”" + (f" by {artist}" if artist else "")
    return words + (f" ({year})" if year else "")


def ingest_one(storage, resident, prober: Prober) -> dict[str, Any]:
    """Ingest one uploaded file and say what happened, in plain words."""
    name = tags.display_text(storage.filename or "") or "the file"
    stream = storage.stream
    stream.flush()
    size = Path(stream.name).stat().st_size
    if size == 0:
        return {"name": name, "status": "refused", "message": f"{name}: not added. The file is empty."}
    if size > current_app.config["MAX_UPLOAD_BYTES"]:
        limit = size_words(current_app.config["MAX_UPLOAD_BYTES"])
        return {"name": name, "status": "refused", "message": f"{name}: not added. It is too big; the most is {limit}."}
    db = get_db()
    try:
        result = ingest.ingest_file(db, current_app.config["MEDIA_DIR"], stream.name, resident_id=resident.id,
                                    original_name=storage.filename, user_id=g.user.id,
                                    min_seconds=current_app.config["MIN_SONG_SECONDS"], prober=prober)
    except Exception:
        log.exception("upload of %r failed", name)
        return {"name": name, "status": "refused",
                "message": f"{name}: not added. Something went wrong on the kiosk; please try again later."}
    out: dict[str, Any] = {"name": result.name, "status": result.status, "song_id": result.song_id,
                           "title": result.title, "artist": result.artist, "year": result.year, "lookalikes": []}
    what = _song_words(result.title, result.artist, result.year)
    if result.status == "refused":
        out["message"] = f"{result.name}: not added. {result.reason}"
        return out
    if result.status == "duplicate":
        out["message"] = f"{result.name}: {what} is already in {resident.name}'s songs."
        return out
    # Added, whoever else may have the same audio: that is nobody's business here.
    out["message"] = f"{result.name}: added {what}."
    out["lookalikes"] = [la.sentence() for la in find_lookalikes(
        db, g.user, resident.id, title=result.title, artist=result.artist, exclude_song_id=result.song_id)]
    return out


@bp.route("/residents/<int:rid>/upload", methods=["GET", "POST"])
@accepts_files
@resident_view
def upload(resident):
    limit = size_words(current_app.config["MAX_UPLOAD_BYTES"])
    if request.method != "POST":
        return render_template("upload.html", resident=resident, limit=limit,
                               max_bytes=current_app.config["MAX_UPLOAD_BYTES"])
    files = [f for f in request.files.getlist("files") if f.filename or f.content_length]
    if not files:
        msg = "Please choose one or more songs first."
        if wants_json():
            return {"ok": False, "error": msg}, 400
        return render_template("upload.html", resident=resident, limit=limit, error=msg,
                               max_bytes=current_app.config["MAX_UPLOAD_BYTES"]), 400
    with Prober() as prober:
        results = [ingest_one(f, resident, prober) for f in files]
    if wants_json():
        return {"ok": True, "files": results}
    return render_template("upload_results.html", resident=resident, results=results)
