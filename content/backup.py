"""Backing up the whole library into one file, to restore it on this or another Pi.

A backup is a plain tar file:

    evergreen-backup/library.db      a consistent snapshot (SQLite's online backup API,
                                     so the kiosk and the admin can keep running)
    evergreen-backup/media/<name>    every media file the snapshot refers to
    evergreen-backup/manifest.json   written last: format, schema, sizes and SHA-256 of
                                     every file above

Reading one back without trusting it is `content.backup_check`; putting it in place of a
library is `content.restore`.

Both are run as root on the appliance (the backup file is on a USB stick). Root only opens
the backup file; the library work runs as the data folder's owner (`content.privileges`),
and never follows a link inside the library: links are refused, files are opened without
following links, and only names a media folder may hold are ever removed.
"""
from __future__ import annotations

import errno
import hashlib
import importlib.metadata  # noqa: F401 - see below
import io
import json
import os
import secrets
import sqlite3
import stat
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterable

from content import db as dbmod
from content import durable, media, privileges
from content.db import LibraryError
from content.timestamps import utc_iso

FORMAT = "evergreen-backup"
FORMAT_VERSION = 1
ROOT = "evergreen-backup"
MANIFEST = f"{ROOT}/manifest.json"
DB_MEMBER = f"{ROOT}/library.db"
MEDIA_PREFIX = f"{ROOT}/media/"
CHUNK = 1024 * 1024

# importlib.metadata is imported above, not left to sqlite-utils, which loads its plugins
# through it on first use: by then the work has given up root and may no longer read a
# Python installed in root's home.


@dataclass
class BackupResult:
    path: Path
    files: int
    bytes: int
    missing: list[str] = field(default_factory=list)  # files the library names but the media folder lacks


# --------------------------------------------------------------------------- backup

def backup(db_path: Path, media_dir: Path, dest: Path, *, now: Callable[[], str] | None = None) -> BackupResult:
    """Write a backup of the library at `db_path` + `media_dir` to `dest`.

    The file appears under its final name only when it is complete and on disk.
    """
    db_path, media_dir, dest = Path(db_path), Path(media_dir), Path(dest).absolute()
    if not db_path.exists():
        raise LibraryError(f"There is no library at {db_path} to back up.")
    if dest.is_dir():
        raise LibraryError(f"{dest} is a folder: give the name of the backup file to write.")
    if not dest.parent.is_dir():
        raise LibraryError(f"The folder {dest.parent} does not exist.")
    if same_file_or_inside(dest, db_path.parent):
        raise LibraryError("Write the backup outside the library's own folder, e.g. to a USB stick.")
    refuse_links(db_path, media_dir)
    stamp = now() if now else utc_iso(fraction=False)
    # Opened here, as whoever runs the command (root may write to the USB stick); filled by
    # the library's owner; named only when whole.
    partial = dest.parent / f".{dest.name}.{secrets.token_hex(4)}.partial"
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise LibraryError(f"The backup cannot be written in {dest.parent} ({exc.strerror}).") from None
    try:
        try:
            result = privileges.as_owner_of(db_path.parent, lambda: _write_backup(fd, db_path, media_dir, stamp))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, dest)
        durable.fsync_dir(dest.parent)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise LibraryError(f"There is not enough free space in {dest.parent} for the backup.") from None
        raise LibraryError(f"The backup could not be written ({exc}).") from None
    finally:
        partial.unlink(missing_ok=True)
    result.path = dest
    return result


def _write_backup(fd: int, db_path: Path, media_dir: Path, stamp: str) -> BackupResult:
    """The tar, written to `fd` by the library's owner."""
    snapshot, schema, wanted = _snapshot(db_path)
    present, missing = _media_names(wanted, media_dir)
    entries: list[dict] = []
    total = 0
    try:
        with open(fd, "wb", closefd=False) as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                entries.append(_add_bytes(tar, snapshot, DB_MEMBER))
                for name in present:
                    entry = _add_file(tar, media_dir, name)
                    if entry is None:
                        missing.append(name)  # removed from the library since the snapshot
                        continue
                    entries.append(entry)
                    total += entry["size"]
                manifest = {
                    "format": FORMAT,
                    "version": FORMAT_VERSION,
                    "created_at": stamp,
                    "migrations": schema,
                    "files": entries,
                    "missing": sorted(missing),
                }
                data = json.dumps(manifest, indent=1).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(time.time())
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(fd)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise LibraryError("There is not enough free space for the backup.") from None
        raise
    return BackupResult(path=Path(), files=len(entries) - 1, bytes=total, missing=sorted(missing))


def _snapshot(db_path: Path) -> tuple[bytes, list[str], set[str]]:
    """A consistent copy of the live database (SQLite's online backup API, into memory, so
    nothing is written on the library's disk), the applied migrations and the media names
    the copy refers to."""
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=dbmod.BUSY_TIMEOUT_MS / 1000)
    try:
        src.execute(f"PRAGMA busy_timeout={dbmod.BUSY_TIMEOUT_MS}")
        copy = sqlite3.connect(":memory:")
        try:
            src.backup(copy)
            ok = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise LibraryError(f"The library's database is damaged ({ok}); a backup of it would be too.")
            try:
                schema = [r[0] for r in copy.execute("SELECT name FROM _sqlite_migrations ORDER BY applied_at, name")]
            except sqlite3.OperationalError:
                schema = []
            wanted = referenced_files(copy)
            data = copy.serialize()
        finally:
            copy.close()
    except sqlite3.DatabaseError as exc:
        raise LibraryError(f"The library at {db_path} could not be read: {exc}.") from exc
    finally:
        src.close()
    return data, schema, wanted


def referenced_files(conn: sqlite3.Connection) -> set[str]:
    """Media file names a library refers to: song audio and resident photos."""
    names = {f"{sha}.{ext}" for sha, ext in conn.execute("SELECT sha256, ext FROM songs")}
    names |= {p for (p,) in conn.execute("SELECT photo FROM residents WHERE photo IS NOT NULL AND photo != ''")}
    return {n for n in names if media.is_stored_name(n)}


def _media_names(wanted: set[str], media_dir: Path) -> tuple[list[str], list[str]]:
    present = sorted(n for n in wanted if regular_file(media_dir / n))
    missing = sorted(wanted - set(present))
    return present, missing


def _add_bytes(tar: tarfile.TarFile, data: bytes, member: str) -> dict:
    info = tarfile.TarInfo(member)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
    return {"name": member, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _add_file(tar: tarfile.TarFile, folder: Path, name: str) -> dict | None:
    """Add one media file to the tar, hashing it as it streams in; None when it is gone
    (or is no longer a plain file: a link is never followed)."""
    try:
        fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, OSError) as exc:
        if isinstance(exc, FileNotFoundError) or exc.errno == errno.ELOOP:
            return None
        raise
    with open(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        info = tarfile.TarInfo(MEDIA_PREFIX + name)
        info.size = st.st_size
        info.mtime = int(st.st_mtime)
        info.mode = 0o644
        reader = _HashingReader(fh)
        tar.addfile(info, reader)
        if reader.count != st.st_size:
            raise LibraryError(f"{name} changed while it was being backed up; try again.")
    return {"name": MEDIA_PREFIX + name, "size": st.st_size, "sha256": reader.hexdigest()}


class _HashingReader:
    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._h = hashlib.sha256()
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self._h.update(data)
        self.count += len(data)
        return data

    def hexdigest(self) -> str:
        return self._h.hexdigest()




def regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def refuse_links(db_path: Path, media_dir: Path) -> None:
    """The library's own names must be what they say: a link in their place (to /etc, to a
    file of root's) is refused rather than followed."""
    for path in (db_path.parent, db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"),
                 Path(f"{db_path}-journal"), media_dir, media_dir / media.INCOMING):
        if path.is_symlink():
            raise LibraryError(f"{path} is a link to somewhere else, which Evergreen will not follow. "
                               "Remove the link (the library's files belong in that place itself), then try again.")
    for path in (db_path.parent, media_dir):
        if path.exists() and not path.is_dir():
            raise LibraryError(f"{path} should be a folder.")
    if db_path.exists() and not regular_file(db_path):
        raise LibraryError(f"{db_path} is not a plain file.")


def same_file_or_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def describe(names: Iterable[str]) -> str:
    names = list(names)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
