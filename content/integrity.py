"""Is the library whole? SQLite's own check, rows whose file is missing, files no row
points to, and scratch files an interrupted write left behind. Run at the admin's start
(the appliance's startup check) and by `python -m content check [--repair]`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from content import library, media
from content.db import write


@dataclass
class Report:
    sqlite: list[str] = field(default_factory=list)         # integrity_check lines other than "ok"
    missing_files: list[int] = field(default_factory=list)  # song ids whose file is gone
    orphan_files: list[str] = field(default_factory=list)   # media files with no row
    scratch_files: list[str] = field(default_factory=list)  # half-written leftovers
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.sqlite or self.missing_files or self.orphan_files or self.scratch_files)


def check(db: sqlite_utils.Database, media_dir: Path, *, repair: bool = False) -> Report:
    report = Report()
    report.sqlite = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
    report.sqlite += [f"foreign key: {r}" for r in db.execute("PRAGMA foreign_key_check").fetchall()]
    # Exclusive: no import may be between placing a file and recording its row.
    with media.locked(media_dir, exclusive=True):
        rows = {f"{sha}.{ext}": sid for sid, sha, ext in db.execute("SELECT id, sha256, ext FROM songs")}
        photos = {r[0] for r in db.execute("SELECT photo FROM residents WHERE photo IS NOT NULL")}
        # Files a box's sync agent placed and keeps for a while (content.sync.files).
        held = {r[0] for r in db.execute("SELECT name FROM sync_files")}
        on_disk = {p.name for p in media.stored_files(media_dir)}
        report.missing_files = sorted(sid for name, sid in rows.items() if name not in on_disk)
        report.orphan_files = sorted(on_disk - rows.keys() - photos - held)
        report.scratch_files = sorted(p.name for p in media.scratch_files(media_dir))
        if repair:
            _repair(db, media_dir, report)
    return report


def _repair(db: sqlite_utils.Database, media_dir: Path, report: Report) -> None:
    for name in report.scratch_files:
        (media_dir / media.INCOMING / name).unlink(missing_ok=True)
        report.repaired.append(f"removed the unfinished file {name}")
    for name in report.orphan_files:
        (media_dir / name).unlink(missing_ok=True)
        report.repaired.append(f"removed {name}, which no song uses")
    if report.missing_files:
        with write(db):
            for sid in report.missing_files:
                title = db.execute("SELECT title FROM songs WHERE id = ?", [sid]).fetchone()[0]
                db.execute("DELETE FROM songs WHERE id = ?", [sid])
                library.audit(db, "song.remove_missing", song_id=None, detail={"song_id": sid, "title": title})
                report.repaired.append(f"removed the song '{title}', whose file was missing")
