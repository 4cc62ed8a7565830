"""The box's outbox: what waits to be sent to the hub, kept in the library so a power cut
loses nothing, each item with an id that never repeats so the hub counts it once.

Any part of the box can add an item (`add`): a kind the hub has a receiver for
(content.hub.receipts.RECEIVERS), an idempotent id, and a JSON payload. Plays are added by
the agent itself (`collect_plays`), from the play history the kiosk writes, so the kiosk does
not change for hub mode; so are reactions logged on the box (`collect_reactions`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from content.db import write
from content.timestamps import utc_iso

PLAYS_DONE_KEY = "outbox.plays_through"    # the highest play id already put in the outbox
REACTIONS_DONE_KEY = "outbox.reactions_through"
PLAY_FIELDS = ("resident_id", "song_id", "started_at", "ended_at", "seconds_heard", "ended_how")


@dataclass(frozen=True)
class Item:
    uid: str
    kind: str
    payload: dict[str, Any]


def add(db: sqlite_utils.Database, kind: str, uid: str, payload: dict[str, Any]) -> bool:
    """Queue one item; False when an item with this id is already queued."""
    with write(db):
        return db.execute("INSERT OR IGNORE INTO sync_outbox (uid, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                          [uid, kind, json.dumps(payload), utc_iso()]).rowcount == 1


def _state(db: sqlite_utils.Database, key: str, default: Any) -> Any:
    row = db.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else default


def _set_state(db: sqlite_utils.Database, key: str, value: Any) -> None:
    db.execute("INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               [key, json.dumps(value)])


def collect_plays(db: sqlite_utils.Database, box_uid: str) -> int:
    """Put every finished play not yet queued into the outbox. Plays are numbered in the
    order they start and the kiosk plays one at a time, so everything below the oldest
    unfinished play is finished. Returns how many were queued."""
    with write(db):
        done = int(_state(db, PLAYS_DONE_KEY, 0))
        open_row = db.execute("SELECT MIN(id) FROM plays WHERE id > ? AND ended_at IS NULL", [done]).fetchone()
        limit = open_row[0] if open_row and open_row[0] is not None else None
        sql = f"SELECT id, {', '.join(PLAY_FIELDS)} FROM plays WHERE id > ?"
        params: list[Any] = [done]
        if limit is not None:
            sql += " AND id < ?"
            params.append(limit)
        rows = db.execute(sql + " ORDER BY id", params).fetchall()
        for row in rows:
            payload = dict(zip(PLAY_FIELDS, row[1:]))
            db.execute("INSERT OR IGNORE INTO sync_outbox (uid, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                       [f"{box_uid}/play/{row[0]}", "play", json.dumps(payload), utc_iso()])
        if rows:
            _set_state(db, PLAYS_DONE_KEY, rows[-1][0])
    return len(rows)


def collect_reactions(db: sqlite_utils.Database) -> int:
    """Put every reaction logged on this box since the last time into the outbox, under the
    reaction's own uid (the care loop gives each one), in the care loop's payload."""
    from content.care import reactions
    with write(db):
        done = int(_state(db, REACTIONS_DONE_KEY, 0))
        rows = db.execute("SELECT id, uid FROM reactions WHERE id > ? ORDER BY id", [done]).fetchall()
        for rid, uid in rows:
            reaction = reactions.by_uid(db, uid) if uid else None
            if reaction is None:
                continue
            db.execute("INSERT OR IGNORE INTO sync_outbox (uid, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                       [uid, "reaction", json.dumps(reactions.to_payload(reaction)), utc_iso()])
        if rows:
            _set_state(db, REACTIONS_DONE_KEY, rows[-1][0])
    return len(rows)


def pending(db: sqlite_utils.Database, limit: int = 200) -> list[Item]:
    return [Item(uid, kind, json.loads(payload)) for uid, kind, payload in db.execute(
        "SELECT uid, kind, payload FROM sync_outbox ORDER BY id LIMIT ?", [limit])]


def forget(db: sqlite_utils.Database, uids: list[str]) -> None:
    """The hub has these: they may go."""
    if not uids:
        return
    with write(db):
        db.conn.executemany("DELETE FROM sync_outbox WHERE uid = ?", [[u] for u in uids])


def count(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT COUNT(*) FROM sync_outbox").fetchone()[0]


get_state = _state


def set_state(db: sqlite_utils.Database, key: str, value: Any) -> None:
    with write(db):
        _set_state(db, key, value)
