"""Revision stamps: how a box's state gets a version number without building it.

A trigger on every table a box's state is made from raises one counter and stamps the
resident (or box) the change belongs to with it. A box's version is then the highest stamp
among the box and its residents: one indexed query, cheap enough to answer every poll.

The triggers are created by the migration and again each time the hub starts
(`ensure_triggers`), because a later migration that rebuilds a table drops its triggers.
"""
from __future__ import annotations

import sqlite_utils

_NEXT = "UPDATE sync_counter SET n = n + 1 WHERE id = 1;"
_N = "(SELECT n FROM sync_counter WHERE id = 1)"


def _stamp_resident(expr: str) -> str:
    return (f"{_NEXT} INSERT INTO resident_revs (resident_id, rev) VALUES ({expr}, {_N}) "
            f"ON CONFLICT(resident_id) DO UPDATE SET rev = excluded.rev;")


def _stamp_box(expr: str) -> str:
    return f"{_NEXT} UPDATE boxes SET rev = {_N} WHERE id = {expr};"


_SONG_USERS = (f"{_NEXT} UPDATE resident_revs SET rev = {_N} WHERE resident_id IN "
               "(SELECT resident_id FROM resident_songs WHERE song_id = NEW.id);")

TRIGGERS = {
    "hub_rev_residents_ins": ("AFTER INSERT ON residents", _stamp_resident("NEW.id")),
    "hub_rev_residents_upd": ("AFTER UPDATE ON residents", _stamp_resident("NEW.id")),
    "hub_rev_rs_ins": ("AFTER INSERT ON resident_songs", _stamp_resident("NEW.resident_id")),
    "hub_rev_rs_upd": ("AFTER UPDATE ON resident_songs",
                       _stamp_resident("NEW.resident_id") + _stamp_resident("OLD.resident_id")),
    "hub_rev_rs_del": ("AFTER DELETE ON resident_songs",
                       f"{_NEXT} UPDATE resident_revs SET rev = {_N} WHERE resident_id = OLD.resident_id;"),
    "hub_rev_songs_upd": ("AFTER UPDATE ON songs", _SONG_USERS),
    "hub_rev_box_res_ins": ("AFTER INSERT ON box_residents", _stamp_box("NEW.box_id")),
    "hub_rev_box_res_del": ("AFTER DELETE ON box_residents", _stamp_box("OLD.box_id")),
    "hub_rev_boxes_upd": ("AFTER UPDATE OF name, home_id, revoked_at, credential_hash ON boxes",
                          _stamp_box("NEW.id")),
    "hub_rev_commands_ins": ("AFTER INSERT ON box_commands", _NEXT),
    "hub_rev_settings_ins": ("AFTER INSERT ON settings WHEN NEW.key LIKE 'era.%'",
                             f"{_NEXT} UPDATE resident_revs SET rev = {_N};"),
    "hub_rev_settings_upd": ("AFTER UPDATE ON settings WHEN NEW.key LIKE 'era.%'",
                             f"{_NEXT} UPDATE resident_revs SET rev = {_N};"),
}


def ensure_triggers(db: sqlite_utils.Database) -> None:
    """Create any missing trigger, and a stamp for every resident that has none.
    Safe to run at every start (inside or outside a transaction)."""
    have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    missing = {name: spec for name, spec in TRIGGERS.items() if name not in have}
    seeded = db.execute("SELECT 1 FROM residents WHERE id NOT IN (SELECT resident_id FROM resident_revs) LIMIT 1"
                        ).fetchone()
    if not missing and not seeded:
        return
    from content.db import write
    with write(db):
        for name, (when, body) in missing.items():
            db.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {when} BEGIN {body} END")
        db.execute(f"INSERT OR IGNORE INTO resident_revs (resident_id, rev) SELECT id, {_N} FROM residents")


def counter(db: sqlite_utils.Database) -> int:
    """Raised by every change any box may need: what the hub's waiting polls watch."""
    return db.execute("SELECT n FROM sync_counter WHERE id = 1").fetchone()[0]


def box_version(db: sqlite_utils.Database, box_id: int) -> int:
    row = db.execute(
        "SELECT MAX(v) FROM (SELECT rev AS v FROM boxes WHERE id = :b UNION ALL "
        "SELECT rr.rev FROM box_residents br JOIN resident_revs rr ON rr.resident_id = br.resident_id "
        "WHERE br.box_id = :b)", {"b": box_id}).fetchone()
    return int(row[0] or 0)
