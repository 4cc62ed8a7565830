"""Everything about one resident, out as one ZIP, or gone for good.

Export: their details, songs (with the names and notes their family gave them), plays,
reactions, red flags and schedule as JSON; their song files and photo; the care-plan report
over their whole history as PDF and CSV.

Deletion: the resident's row and everything hanging from it (their entries, plays,
reactions, invites), family accounts that were there only for them, their photo, the songs
and files no other resident has, the kiosk's memory of them, and every audit entry about
them. The audit log then keeps one line saying that a resident was deleted, without a name.
SQLite's secure_delete overwrites the freed space, and the write-ahead log is checkpointed,
so the words do not linger in the database files. Backups made before stay as they were:
the page that asks for the name again says so.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import sqlite_utils

from content import ingest, library
from content.care import document, report, table
from content.db import LibraryError, reading, write
from content.durable import fsync_dir
from content.timestamps import utc_iso

FORMAT = 1


def _rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in db.query(sql, params)]


def resident_data(db: sqlite_utils.Database, resident_id: int) -> dict[str, Any]:
    """Everything the library holds about the resident, as JSON values (read in one transaction)."""
    with reading(db):
        resident = _rows(db, "SELECT * FROM residents WHERE id = ?", [resident_id])
        if not resident:
            raise LibraryError(f"There is no resident number {resident_id}.")
        songs = _rows(db, "SELECT s.title AS file_title, s.artist AS file_artist, s.album, s.tag_year, s.duration, "
                          "s.format, s.sha256, s.ext, rs.* FROM resident_songs rs JOIN songs s ON s.id = rs.song_id "
                          "WHERE rs.resident_id = ? ORDER BY s.id", [resident_id])
        for s in songs:
            s["file"] = f"media/{s['sha256']}.{s['ext']}"
            s.pop("added_by", None)
        data = {
            "format": FORMAT,
            "exported_at": utc_iso(),
            "resident": resident[0],
            "songs": songs,
            "plays": _rows(db, "SELECT id, song_id, started_at, ended_at, seconds_heard, ended_how FROM plays "
                               "WHERE resident_id = ? ORDER BY started_at, id", [resident_id]),
            "reactions": _rows(db, "SELECT uid, song_id, play_id, at, reaction, note, note_staff_only, source, "
                                   "by_role FROM reactions WHERE resident_id = ? ORDER BY at, id", [resident_id]),
            "family": _rows(db, "SELECT u.display_name AS name, u.email FROM users u JOIN user_residents ur "
                                "ON ur.user_id = u.id WHERE ur.resident_id = ? ORDER BY u.email", [resident_id]),
            "audit": _rows(db, "SELECT at, action, song_id, detail FROM audit_log WHERE resident_id = ? "
                               "ORDER BY at, id", [resident_id]),
        }
    return data


def history_span(db: sqlite_utils.Database, resident_id: int, tz: _dt.tzinfo) -> tuple[_dt.date, _dt.date]:
    """From the first thing that happened to today, at most the longest report."""
    first = db.execute(
        "SELECT MIN(t) FROM (SELECT MIN(started_at) AS t FROM plays WHERE resident_id = :r "
        "UNION ALL SELECT MIN(at) FROM reactions WHERE resident_id = :r "
        "UNION ALL SELECT created_at FROM residents WHERE id = :r)", {"r": resident_id}).fetchone()[0]
    today = _dt.datetime.now(tz).date()
    start = _dt.datetime.fromisoformat(first.replace("Z", "+00:00")).astimezone(tz).date() if first else today
    start = max(start, today - _dt.timedelta(days=report.MAX_DAYS - 1))
    return min(start, today), today


def export_resident(db: sqlite_utils.Database, media_dir: Path, resident_id: int, target: Path, *,
                    tz: _dt.tzinfo | None = None, user_id: int | None = None) -> Path:
    """Write the ZIP to `target`, whole or not at all. Returns `target`."""
    tz = tz or report.local_zone()
    data = resident_data(db, resident_id)
    start, end = history_span(db, resident_id, tz)
    rep = report.build(db, resident_id, start, end, staff_view=True, tz=tz)
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("resident.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
            z.writestr("report.pdf", document.pdf(rep))
            z.writestr("report-days.csv", table.days_csv(rep))
            z.writestr("reactions.csv", table.reactions_csv(rep))
            names = {Path(s["file"]).name for s in data["songs"]}
            photo = data["resident"].get("photo")
            for name in sorted(names):
                path = Path(media_dir) / name
                if path.is_file():
                    # Songs are compressed already: stored as they are.
                    z.write(path, f"media/{name}", compress_type=zipfile.ZIP_STORED)
            if photo and (Path(media_dir) / photo).is_file():
                z.write(Path(media_dir) / photo, f"photo/{photo}", compress_type=zipfile.ZIP_STORED)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        Path(tmp).unlink(missing_ok=True)
    library.audit(db, "resident.export", user_id=user_id, resident_id=resident_id)
    return target


@contextlib.contextmanager
def exported(db: sqlite_utils.Database, media_dir: Path, resident_id: int, scratch: Path, **kw) -> Iterator[Path]:
    """The ZIP in a scratch folder for as long as the block runs (for a download)."""
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=scratch, prefix="export-"))
    path = folder / "resident.zip"
    try:
        yield export_resident(db, media_dir, resident_id, path, **kw)
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()


def same_name(typed: str, name: str) -> bool:
    return " ".join((typed or "").split()).casefold() == " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Deleted:
    songs_removed: int       # songs (and files) no one else had
    songs_kept: int          # songs another resident still has
    plays: int
    reactions: int
    accounts_removed: int


def _exists(db: sqlite_utils.Database, table: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone() is not None


def delete_resident(db: sqlite_utils.Database, media_dir: Path, resident_id: int, *, confirm_name: str,
                    user_id: int | None = None) -> Deleted:
    """Delete the resident completely. `confirm_name` must be their name typed again."""
    resident = library.get_resident(db, resident_id)
    if not same_name(confirm_name, resident.name):
        raise LibraryError(f"The name typed does not match. Nothing was deleted; type {resident.name} exactly "
                           "to delete them.")
    conn = db.conn
    previous = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete = ON")
    try:
        with write(db):
            songs = [r[0] for r in db.execute("SELECT song_id FROM resident_songs WHERE resident_id = ?",
                                              [resident_id])]
            only_theirs = [r[0] for r in db.execute(
                "SELECT song_id FROM resident_songs WHERE resident_id = ? AND song_id NOT IN "
                "(SELECT song_id FROM resident_songs WHERE resident_id != ?)", [resident_id, resident_id])]
            accounts = [r[0] for r in db.execute(
                "SELECT user_id FROM user_residents WHERE resident_id = ? AND user_id IN "
                "(SELECT u.id FROM users u WHERE u.role = 'family') AND user_id NOT IN "
                "(SELECT user_id FROM user_residents WHERE resident_id != ?)", [resident_id, resident_id])]
            plays = db.execute("SELECT COUNT(*) FROM plays WHERE resident_id = ?", [resident_id]).fetchone()[0]
            reactions = db.execute("SELECT COUNT(*) FROM reactions WHERE resident_id = ?", [resident_id]).fetchone()[0]
            _forget(db, resident_id, only_theirs, accounts)
            library.audit(db, "resident.delete", user_id=user_id)
        removed = sum(1 for sid in only_theirs if ingest.remove_if_unused(db, media_dir, sid))
        if resident.photo and not db.execute("SELECT 1 FROM residents WHERE photo = ?", [resident.photo]).fetchone():
            (Path(media_dir) / resident.photo).unlink(missing_ok=True)
        # The old pages are in the write-ahead log until a checkpoint: copy them back (now
        # zeroed) and empty the log.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.execute(f"PRAGMA secure_delete = {int(previous)}")
    return Deleted(songs_removed=removed, songs_kept=len(songs) - len(only_theirs), plays=plays,
                   reactions=reactions, accounts_removed=len(accounts))


def _forget(db: sqlite_utils.Database, resident_id: int, only_theirs: list[int], accounts: list[int]) -> None:
    """Every row that names the resident, inside the caller's transaction."""
    marks = ",".join("?" * len(only_theirs)) or "NULL"
    users = ",".join("?" * len(accounts)) or "NULL"
    db.execute(f"DELETE FROM audit_log WHERE resident_id = ? OR song_id IN ({marks}) "
               f"OR user_id IN ({users}) OR json_extract(detail, '$.user') IN ({users})",
               [resident_id, *only_theirs, *accounts, *accounts])
    emails = [r[0] for r in db.execute(f"SELECT email FROM users WHERE id IN ({users})", accounts)]
    if _exists(db, "login_failures"):
        db.conn.executemany("DELETE FROM login_failures WHERE email = ?", [[e] for e in emails])
    for key in ("resume", "resident_id"):
        row = db.execute("SELECT value FROM kiosk_state WHERE key = ?", [key]).fetchone()
        if row and _names_resident(row[0], resident_id):
            db.execute("DELETE FROM kiosk_state WHERE key = ?", [key])
    if _exists(db, "sync_outbox"):
        db.execute("DELETE FROM sync_outbox WHERE json_extract(payload, '$.resident_id') = ?", [resident_id])
    db.execute("DELETE FROM plays WHERE resident_id = ?", [resident_id])
    db.execute("DELETE FROM reactions WHERE resident_id = ?", [resident_id])
    db.execute("DELETE FROM residents WHERE id = ?", [resident_id])     # entries, invites, links follow
    db.execute(f"DELETE FROM users WHERE id IN ({users})", accounts)


def _names_resident(value: str, resident_id: int) -> bool:
    try:
        data = json.loads(value)
    except ValueError:
        return False
    if isinstance(data, dict):
        return data.get("resident_id") == resident_id
    return data == resident_id
