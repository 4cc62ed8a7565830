"""What a box is sent: its residents, their song entries and the songs' files, as one
versioned document.

The document copies the columns of residents, songs and resident_songs as they are (less
what stays on the hub: photos, homes, who added a song), so a column added to those tables
reaches the boxes without a change here; the box keeps the columns it also has. It is read
in one read transaction, so its version and its rows always belong together.
"""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from content.db import reading
from content.hub import revisions

FORMAT = 1
HUB_ONLY = {
    "residents": {"photo", "home_id"},
    "songs": set(),
    "resident_songs": {"added_by"},
}
SHARED_SETTINGS = "era.%"


def etag(version: int) -> str:
    return f'"v{version}"'


def _rows(db: sqlite_utils.Database, table: str, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = db.execute(sql, params)
    names = [d[0] for d in cur.description]
    skip = HUB_ONLY[table]
    return [{k: v for k, v in zip(names, row) if k not in skip} for row in cur.fetchall()]


def build(db: sqlite_utils.Database, box_id: int) -> dict[str, Any]:
    with reading(db):
        version = revisions.box_version(db, box_id)
        box = db.execute("SELECT b.name, h.name FROM boxes b JOIN homes h ON h.id = b.home_id WHERE b.id = ?",
                         [box_id]).fetchone()
        residents = _rows(db, "residents", "SELECT r.* FROM residents r JOIN box_residents br ON br.resident_id = r.id "
                          "WHERE br.box_id = ? ORDER BY r.id", [box_id])
        entries = _rows(db, "resident_songs", "SELECT rs.* FROM resident_songs rs JOIN box_residents br "
                        "ON br.resident_id = rs.resident_id WHERE br.box_id = ? ORDER BY rs.resident_id, rs.song_id",
                        [box_id])
        songs = _rows(db, "songs", "SELECT s.* FROM songs s WHERE s.id IN (SELECT rs.song_id FROM resident_songs rs "
                      "JOIN box_residents br ON br.resident_id = rs.resident_id WHERE br.box_id = ?) ORDER BY s.id",
                      [box_id])
        settings = {k: json.loads(v) for k, v in db.execute(
            "SELECT key, value FROM settings WHERE key LIKE ?", [SHARED_SETTINGS])}
    return {
        "format": FORMAT,
        "version": version,
        "box": {"id": box_id, "name": box[0] if box else "", "home": box[1] if box else ""},
        "residents": residents,
        "songs": songs,
        "resident_songs": entries,
        "settings": settings,
    }
