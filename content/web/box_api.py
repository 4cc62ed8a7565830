"""The hub's side of the music boxes' channel (hub mode only). Views only: the rules are in
content.hub.

  POST /api/box/join            a pairing code for a credential (anyone; tries are slowed)
  GET  /api/box/state           the box's state; conditional (ETag / If-None-Match -> 304)
  GET  /api/box/wait            waits until the state's version moves or a command is queued
  POST /api/box/report          outbox items, now playing, finished commands
  GET  /api/box/media/<sha256>  a song file, with Range for resuming
  POST /api/box/songs           a song sent from the box (`content import` in hub mode)
"""
from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from flask import Blueprint, current_app, g, request, send_from_directory

from content import ingest, library
from content.db import LibraryError
from content.hub import boxes, homes, receipts, revisions, state
from content.web.guard import accepts_files, box_required, pairing
from content.web.request_scope import get_db

bp = Blueprint("box_api", __name__, url_prefix="/api/box")
log = logging.getLogger("evergreen.hub")

MAX_WAIT_S = 240          # under the five minutes after which home routers may drop a quiet connection
BUSY_RETRY_S = 5          # when every waiting place is taken: come back this soon
MAX_REPORT_BYTES = 2 * 1024 * 1024


def _watch():
    return current_app.extensions["evergreen.watch"]


@bp.route("/join", methods=["POST"])
@pairing
def join():
    if (request.content_length or 0) > 4096:
        return {"ok": False, "error": "That is not a pairing request."}, 400
    data = request.get_json(silent=True) or {}
    try:
        box_id, credential = boxes.pair(get_db(), str(data.get("code", "")), remote=request.remote_addr or "")
    except LibraryError as exc:
        return {"ok": False, "error": str(exc)}, 400
    box = boxes.get_box(get_db(), box_id)
    return {"ok": True, "box_id": box_id, "credential": credential, "name": box.name,
            "home": homes.home_name(get_db(), box.home_id)}


@bp.route("/state")
@box_required
def box_state():
    db = get_db()
    boxes.seen(db, g.box_id)
    tag = state.etag(revisions.box_version(db, g.box_id))
    if request.headers.get("If-None-Match") == tag:
        return "", 304, {"ETag": tag}
    doc = state.build(db, g.box_id)
    return doc, 200, {"ETag": state.etag(doc["version"])}


def _int_arg(name: str, default: int, high: int) -> int:
    text = request.args.get(name, "")
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        return default
    return min(int(text), high)


@bp.route("/wait")
@box_required
def wait():
    """Answers as soon as the box's state has a version other than `etag`, or a command
    newer than `after` is waiting, or after `timeout` seconds (at most MAX_WAIT_S)."""
    db = get_db()
    box_id = g.box_id
    known = request.args.get("etag", "")
    after = _int_arg("after", 0, 2**62)
    timeout = _int_arg("timeout", 0, MAX_WAIT_S)
    watch = _watch()
    boxes.seen(db, box_id)
    ticket = watch.enter(box_id) if timeout else None
    retry = BUSY_RETRY_S if timeout and ticket is None else 0
    if ticket is None:
        timeout = 0
    try:
        deadline = time.monotonic() + timeout
        while True:
            seen = watch.current()
            tag = state.etag(revisions.box_version(db, box_id))
            commands = [c for c in boxes.pending_commands(db, box_id) if c["id"] > after]
            left = deadline - time.monotonic()
            if (tag != known or commands or left <= 0 or watch.closed
                    or (ticket is not None and watch.replaced(box_id, ticket))):
                break
            watch.wait(seen, min(left, 30), (box_id, ticket))
            if boxes.authenticate(db, request.headers["Authorization"].partition(" ")[2].strip()) is None:
                return {"ok": False, "error": "This music box is not paired with this hub."}, 401
    finally:
        if ticket is not None:
            watch.leave(box_id, ticket)
            boxes.seen(db, box_id, force=True)
    return {"etag": tag, "commands": commands, "retry": retry}


@bp.route("/report", methods=["POST"])
@accepts_files
@box_required
def report():
    if (request.content_length or 0) > MAX_REPORT_BYTES:
        return {"ok": False, "error": "Too much at once."}, 413
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return {"ok": False, "error": "That is not a report."}, 400
    db = get_db()
    items = data.get("items") or []
    acked = receipts.receive(db, g.box_id, items if isinstance(items, list) else [])
    playing = data.get("playing")
    if isinstance(playing, dict):
        boxes.report_playing(db, g.box_id, _clean_status(playing))
    else:
        boxes.seen(db, g.box_id)
    for done in data.get("done") or []:
        if isinstance(done, dict) and isinstance(done.get("id"), int):
            boxes.finish_command(db, g.box_id, done["id"], str(done.get("result", ""))[:300])
    return {"ok": True, "acked": acked}


_STATUS_KEYS = {"state": str, "resident_id": int, "quiet_reason": str, "volume": (int, float), "since": str}
_SONG_KEYS = {"id": int, "title": str, "artist": str, "year": int}


def _pick(raw: dict, keys: dict) -> dict:
    out = {}
    for key, kind in keys.items():
        v = raw.get(key)
        if isinstance(v, kind) and not isinstance(v, bool):
            out[key] = v[:300] if isinstance(v, str) else v
    return out


def _clean_status(raw: dict) -> dict:
    """Only the fields the hub shows (the kiosk's own status shape), of the expected types
    and short."""
    out = _pick(raw, _STATUS_KEYS)
    if isinstance(raw.get("song"), dict):
        out["song"] = _pick(raw["song"], _SONG_KEYS)
    return out


@bp.route("/media/<sha256>")
@box_required
def media_file(sha256: str):
    name = boxes.box_has_song(get_db(), g.box_id, sha256.lower()) if len(sha256) == 64 else None
    if name is None:
        return {"ok": False, "error": "No such song for this box."}, 404
    resp = send_from_directory(current_app.config["MEDIA_DIR"], name, conditional=True, max_age=0)
    resp.headers["Cache-Control"] = "private, no-transform"
    return resp


@bp.route("/songs", methods=["POST"])
@accepts_files
@box_required
def upload_song():
    """A song file from a USB stick on the box, for one of the box's residents. The body is
    the file itself; the resident is a number in the address, the name a header."""
    db = get_db()
    rid = _int_arg("resident", 0, 2**62)
    if rid not in {r.id for r in boxes.residents_of(db, g.box_id)}:
        return {"ok": False, "error": "That resident is not on this music box."}, 404
    if request.content_length is None:
        return {"ok": False, "error": "The song's size is missing."}, 411
    name = request.headers.get("X-File-Name", "")[:255] or "song"
    folder = Path(current_app.config["UPLOAD_TMP"])
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix="upload-", suffix=".part") as tmp:
        while chunk := request.stream.read(1024 * 1024):
            tmp.write(chunk)
        tmp.flush()
        result = ingest.ingest_file(db, current_app.config["MEDIA_DIR"], tmp.name, resident_id=rid,
                                    original_name=name, min_seconds=current_app.config["MIN_SONG_SECONDS"])
    if result.status != "refused":
        library.audit(db, "box.import", resident_id=rid, song_id=result.song_id, detail={"box": g.box_id})
    return {"ok": True, "line": result.line(), "status": result.status}
