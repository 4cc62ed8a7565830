"""What boxes send back, each item taken exactly once.

A box sends items from its outbox, each with a kind, an id of its own that never repeats
(the idempotent id) and a payload. The hub records the id in `box_receipts` in the same
transaction as the item's effect, so an item sent twice (the answer was lost, the box lost
power before it heard it) is acknowledged again but counted once.

Each kind has one receiver, registered in `RECEIVERS`. A kind this hub does not know yet is
left unacknowledged, so the box keeps it until the hub is updated. An item the hub cannot
use (it names a resident who is not in the box's home) is acknowledged and dropped, with a
log line, so it does not come back for ever.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

import sqlite_utils

from content.db import LibraryError, write
from content.timestamps import utc_iso

log = logging.getLogger("evergreen.hub")

MAX_UID = 200
ENDED = {"finished", "next", "previous", "stopped", "error", "session_end", "red_flag", "power_cut"}


class Unusable(ValueError):
    """An item that can never be taken: acknowledged and dropped."""


def _text(payload: dict[str, Any], key: str, limit: int = 40) -> str | None:
    v = payload.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or len(v) > limit:
        raise Unusable(f"{key} is not a short text")
    return v


def _resident_of_box(db: sqlite_utils.Database, box_id: int, resident_id: Any) -> int:
    if not isinstance(resident_id, int):
        raise Unusable("no resident")
    row = db.execute("SELECT 1 FROM residents r JOIN boxes b ON b.home_id = r.home_id WHERE r.id = ? AND b.id = ?",
                     [resident_id, box_id]).fetchone()
    if row is None:
        raise Unusable("the resident is not in this box's home")
    return resident_id


def _song_or_none(db: sqlite_utils.Database, song_id: Any) -> int | None:
    if not isinstance(song_id, int):
        return None
    return song_id if db.execute("SELECT 1 FROM songs WHERE id = ?", [song_id]).fetchone() else None


def receive_play(db: sqlite_utils.Database, box_id: int, payload: dict[str, Any], uid: str) -> None:
    rid = _resident_of_box(db, box_id, payload.get("resident_id"))
    how = _text(payload, "ended_how")
    if how is not None and how not in ENDED:
        raise Unusable("unknown ending")
    heard = payload.get("seconds_heard") or 0
    if not isinstance(heard, (int, float)) or not 0 <= heard < 86400:
        raise Unusable("seconds heard")
    started = _text(payload, "started_at")
    if not started:
        raise Unusable("no start time")
    db.execute("INSERT INTO plays (resident_id, song_id, started_at, ended_at, seconds_heard, ended_how) "
               "VALUES (?, ?, ?, ?, ?, ?)",
               [rid, _song_or_none(db, payload.get("song_id")), started, _text(payload, "ended_at"),
                float(heard), how])


def receive_reaction(db: sqlite_utils.Database, box_id: int, payload: dict[str, Any], uid: str) -> None:
    """A reaction logged on the box (its staff button): the care loop takes it, keyed by the
    reaction's own uid, for a resident of the box's home."""
    from content.care import reactions
    rid = _resident_of_box(db, box_id, payload.get("resident_id"))
    try:
        reactions.receive(db, uid, payload, resident_id=rid)
    except LibraryError as exc:
        raise Unusable(str(exc)) from None


Receiver = Callable[[sqlite_utils.Database, int, dict[str, Any], str], None]
RECEIVERS: dict[str, Receiver] = {"play": receive_play, "reaction": receive_reaction}


def receive(db: sqlite_utils.Database, box_id: int, items: list[Any],
            receivers: dict[str, Receiver] | None = None) -> list[str]:
    """Take a batch of outbox items; returns the ids the box may now forget."""
    receivers = RECEIVERS if receivers is None else receivers
    acked: list[str] = []
    with write(db):
        for item in items:
            if not isinstance(item, dict):
                continue
            uid, kind, payload = item.get("uid"), item.get("kind"), item.get("payload")
            if not isinstance(uid, str) or not uid or len(uid) > MAX_UID or kind not in receivers:
                continue
            fresh = db.execute("INSERT OR IGNORE INTO box_receipts (uid, box_id, kind, received_at) VALUES (?, ?, ?, ?)",
                               [uid, box_id, kind, utc_iso()]).rowcount
            if fresh:
                try:
                    db.execute("SAVEPOINT item")
                    if not isinstance(payload, dict):
                        raise Unusable("no payload")
                    receivers[kind](db, box_id, payload, uid)
                    db.execute("RELEASE item")
                except Unusable as exc:
                    db.execute("ROLLBACK TO item")
                    db.execute("RELEASE item")
                    log.warning("Box %s sent a %s the hub cannot use (%s); dropped.", box_id, kind, exc)
            acked.append(uid)
    return acked
