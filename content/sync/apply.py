"""Making the box's library what the hub's state says, in one transaction.

Rows are copied column by column, for the columns both sides have, with the hub's ids (so a
play the box sends back names the hub's resident and song). A song whose file is not on
the box yet is held back with its entries, so no row ever points at a missing file; the
agent applies the same state again once the file is whole. Red flags and notes therefore
never wait for a download. Before any row is deleted, the plays that name it are put in the
outbox, so taking a resident or a song away cannot lose their history.

A song whose file name or size no song can have (`files.refusal`) is left out with its
entries and the reason kept, so one bad row from a hub never stops the rest of the state.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import sqlite_utils

from content.db import LibraryError, write
from content.sync import files, outbox

APPLIED_KEY = "applied"


@dataclass(frozen=True)
class Applied:
    version: int
    songs: int
    waiting: int          # songs held back until their file is here
    refused: tuple[str, ...] = field(default=())     # songs left out for good, and why


def _columns(db: sqlite_utils.Database, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def _upsert(db: sqlite_utils.Database, table: str, rows: list[dict[str, Any]], key: tuple[str, ...],
            local: set[str]) -> None:
    for row in rows:
        cols = [c for c in row if c in local]
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key) or f"{key[0]} = excluded.{key[0]}"
        db.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                   f"ON CONFLICT({', '.join(key)}) DO UPDATE SET {sets}", [row[c] for c in cols])


def _check(state: Any) -> None:
    if not isinstance(state, dict) or not isinstance(state.get("version"), int):
        raise LibraryError("The hub sent a state this box cannot read.")
    for name in ("residents", "songs", "resident_songs"):
        if not isinstance(state.get(name), list) or not all(isinstance(r, dict) for r in state[name]):
            raise LibraryError("The hub sent a state this box cannot read.")


def apply_state(db: sqlite_utils.Database, state: dict[str, Any], have_file: Callable[[str], bool],
                box_uid: str) -> Applied:
    """`have_file("<sha256>.<ext>")` says whether the file is whole in media/."""
    _check(state)
    refused, takeable = [], []
    for s in state["songs"]:
        why = files.refusal(s)
        if why:
            refused.append(f"Song {str(s.get('id'))[:20]} from the hub was not taken: {why}.")
        else:
            takeable.append(s)
    songs = [s for s in takeable if have_file(f"{s['sha256']}.{s['ext']}")]
    song_ids = {s["id"] for s in songs}
    entries = [e for e in state["resident_songs"] if e["song_id"] in song_ids]
    resident_ids = {r["id"] for r in state["residents"]}
    with write(db):
        outbox.collect_plays(db, box_uid)
        outbox.collect_reactions(db)
        keep = {(e["resident_id"], e["song_id"]) for e in entries}
        for rid, sid in db.execute("SELECT resident_id, song_id FROM resident_songs").fetchall():
            if (rid, sid) not in keep:
                db.execute("DELETE FROM resident_songs WHERE resident_id = ? AND song_id = ?", [rid, sid])
        for (sid,) in db.execute("SELECT id FROM songs").fetchall():
            if sid not in song_ids:
                db.execute("DELETE FROM songs WHERE id = ?", [sid])
        for (rid,) in db.execute("SELECT id FROM residents").fetchall():
            if rid not in resident_ids:
                db.execute("DELETE FROM residents WHERE id = ?", [rid])
        _upsert(db, "residents", state["residents"], ("id",), _columns(db, "residents"))
        _upsert(db, "songs", songs, ("id",), _columns(db, "songs"))
        _upsert(db, "resident_songs", entries, ("resident_id", "song_id"), _columns(db, "resident_songs"))
        settings = state.get("settings") or {}
        db.execute("DELETE FROM settings WHERE key LIKE 'era.%'")
        for key, value in settings.items():
            if isinstance(key, str) and key.startswith("era."):
                db.execute("INSERT INTO settings (key, value) VALUES (?, json(?))", [key, json.dumps(value)])
        result = Applied(state["version"], len(songs), len(takeable) - len(songs), tuple(refused))
        outbox._set_state(db, APPLIED_KEY, {"version": result.version, "waiting": result.waiting})
    return result


def applied(db: sqlite_utils.Database) -> dict[str, Any]:
    return outbox.get_state(db, APPLIED_KEY, {"version": None, "waiting": 0})
