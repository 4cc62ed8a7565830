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
from content.db import LibraryError
from content.media import StorageFull
from content.storage import FULL_WORDS
from content.upload_pieces import GONE, PIECE_BYTES, Pieces, WrongOffset
from content.probe import Prober, ProberPool
from content.web.guard import accepts_files, resident_view
from content.era.lookalike import find_lookalikes
from content.web.answers import size_words, wants_json
from content.web.request_scope import get_db
from content.web.words import upload_counts

bp = Blueprint("upload", __name__)
bp.app_template_global("upload_counts")(upload_counts)
log = logging.getLogger("evergreen.admin")


def _song_words(title: str, artist: str, year: int | None) -> str:
    words = f"“{title}”" + (f" by {artist}" if artist else "")
    return words + (f" ({year})" if year else "")


def ingest_one(storage, resident, prober: Prober) -> dict[str, Any]:
    """Ingest one file sent in a plain form and say what happened, in plain words."""
    stream = storage.stream
    stream.flush()
    return ingest_path(Path(stream.name), storage.filename or "", resident, prober)


def ingest_path(path: Path, filename: str, resident, prober: Prober) -> dict[str, Any]:
    """Ingest one whole file (from a form, or put together from pieces)."""
    name = tags.display_text(filename) or "the file"
    size = path.stat().st_size
    if size == 0:
        return {"name": name, "status": "refused", "message": f"{name}: not added. The file is empty."}
    if size > current_app.config["MAX_UPLOAD_BYTES"]:
        limit = size_words(current_app.config["MAX_UPLOAD_BYTES"])
        return {"name": name, "status": "refused", "message": f"{name}: not added. It is too big; the most is {limit}."}
    db = get_db()
    try:
        result = ingest.ingest_file(db, current_app.config["MEDIA_DIR"], path, resident_id=resident.id,
                                    original_name=filename, user_id=g.user.id,
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


def probers() -> ProberPool:
    """The admin's decoders, shared by every upload: one per core, so several families
    sending songs at once are checked side by side but never overload the box; ended
    after a minute unused."""
    pool = current_app.extensions.get("evergreen.probers")
    if pool is None:
        pool = current_app.extensions.setdefault("evergreen.probers", ProberPool(idle_seconds=60))
    return pool


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
    results = []
    for f in files:
        with probers().prober() as prober:
            results.append(ingest_one(f, resident, prober))
    if wants_json():
        return {"ok": True, "files": results}
    return render_template("upload_results.html", resident=resident, results=results)


# --- in pieces, from the phone's uploader: no request over PIECE_BYTES, resumable ----------

def _pieces() -> Pieces:
    return Pieces(current_app.config["UPLOAD_TMP"])


def _piece_answer(upload) -> dict[str, Any]:
    return {"ok": True, "id": upload.id, "received": upload.received, "size": upload.size, "piece": PIECE_BYTES}


@bp.route("/residents/<int:rid>/uploads", methods=["POST"])
@resident_view
def start_pieces(resident):
    try:
        size = int(request.form.get("size", ""))
    except ValueError:
        return {"ok": False, "error": "Say how big the file is."}, 400
    try:
        upload = _pieces().start(g.user.id, resident.id, request.form.get("name", ""), size,
                                 current_app.config["MAX_UPLOAD_BYTES"])
    except StorageFull:
        return {"ok": False, "error": FULL_WORDS}, 507
    except LibraryError as exc:
        return {"ok": False, "error": str(exc)}, 400
    return _piece_answer(upload), 201


@bp.route("/residents/<int:rid>/uploads/<upload_id>")
@resident_view
def piece_status(resident, upload_id: str):
    """Where to carry on after a dropped connection."""
    try:
        return _piece_answer(_pieces().get(upload_id, g.user.id, resident.id))
    except LibraryError as exc:
        return {"ok": False, "error": str(exc)}, 404


@bp.route("/residents/<int:rid>/uploads/<upload_id>/piece", methods=["POST"])
@accepts_files
@resident_view
def add_piece(resident, upload_id: str):
    length = request.content_length or 0
    if length > PIECE_BYTES:
        return {"ok": False, "error": "A piece can be at most 8 MB."}, 413
    offset = request.args.get("offset", "")
    if not (offset.isascii() and offset.isdigit() and len(offset) <= 15):
        return {"ok": False, "error": "Say where this piece starts."}, 400
    pieces = _pieces()
    try:
        upload = pieces.get(upload_id, g.user.id, resident.id)
        upload = pieces.append(upload, int(offset), request.stream, length)
    except WrongOffset as exc:
        return {"ok": False, "error": str(exc), "received": exc.received}, 409
    except StorageFull:
        return {"ok": False, "error": FULL_WORDS}, 507
    except LibraryError as exc:
        return {"ok": False, "error": str(exc)}, 404 if str(exc) == GONE else 400
    return _piece_answer(upload)


@bp.route("/residents/<int:rid>/uploads/<upload_id>/finish", methods=["POST"])
@resident_view
def finish_pieces(resident, upload_id: str):
    pieces = _pieces()
    try:
        upload = pieces.get(upload_id, g.user.id, resident.id)
        whole = pieces.whole(upload)
    except WrongOffset as exc:
        return {"ok": False, "error": str(exc), "received": exc.received}, 409
    except LibraryError as exc:
        return {"ok": False, "error": str(exc)}, 404
    try:
        with probers().prober() as prober:
            result = ingest_path(whole, upload.name, resident, prober)
    finally:
        pieces.discard(upload.id)
    return {"ok": True, "files": [result]}
