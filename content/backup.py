"""Backing up the whole library into one file, and restoring it on this or another Pi.

A backup is a plain tar file:

    evergreen-backup/library.db      a consistent snapshot (SQLite's online backup API,
                                     so the kiosk and the admin can keep running)
    evergreen-backup/media/<name>    every media file the snapshot refers to
    evergreen-backup/manifest.json   written last: format, schema, sizes and SHA-256 of
                                     every file above

Restore checks the manifest, every member's type, name and size against it, and the free
space, before it writes anything; then every checksum and the database's integrity in
staging places on the library's own disk before touching the library. It brings the schema
up to date and switches the library over with a single rename of the database file. Media
files are named by their content, so the new files can join the media folder before the
switch without disturbing the old library; files that only the old library used are
removed after it. A restore that stops half way (an error, a power cut) leaves the old
library as it was.

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
import re
import secrets
import shutil
import sqlite3
import stat
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO, Callable, Iterable

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
STAGING_PREFIX = ".restore-"
CHUNK = 1024 * 1024
MANIFEST_MAX_BYTES = 64 * 1024 * 1024     # about 300,000 files: far more than any library
SPARE_BYTES = 16 * 1024 * 1024            # left free on the library's disk after a restore
_HEX64 = re.compile(r"[0-9a-f]{64}")
_COMPRESSED = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"(\xb5/\xfd", "zstd"))

# importlib.metadata is imported above, not left to sqlite-utils, which loads its plugins
# through it on first use: by then the work has given up root and may no longer read a
# Python installed in root's home.

# Tables whose rows make a library worth protecting from an accidental restore.
_CONTENT_TABLES = ("residents", "songs", "users", "plays", "reactions")


@dataclass
class BackupResult:
    path: Path
    files: int
    bytes: int
    missing: list[str] = field(default_factory=list)  # files the library names but the media folder lacks


@dataclass
class RestoreResult:
    files: int
    residents: int
    songs: int
    plays: int
    replaced: bool
    removed_files: int = 0
    missing: list[str] = field(default_factory=list)  # already missing when the backup was made


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
    if _same_file_or_inside(dest, db_path.parent):
        raise LibraryError("Write the backup outside the library's own folder, e.g. to a USB stick.")
    _refuse_links(db_path, media_dir)
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
    present = sorted(n for n in wanted if _regular_file(media_dir / n))
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


# --------------------------------------------------------------------------- restore

def restore(
    src: Path,
    db_path: Path,
    media_dir: Path,
    *,
    force: bool = False,
    in_use: Callable[[Path], list[str]] | None = None,
) -> RestoreResult:
    """Replace the library at `db_path` + `media_dir` with the backup in `src`.

    Refuses a library that already has residents, songs, people or history unless
    `force`; refuses while another program has the library open (`in_use` lists them).
    """
    src, db_path, media_dir = Path(src), Path(db_path).absolute(), Path(media_dir).absolute()
    if not src.is_file():
        raise LibraryError(f"There is no backup file at {src}.")
    data_dir = db_path.parent
    data_dir.mkdir(parents=True, exist_ok=True)
    _refuse_links(db_path, media_dir)
    try:
        backup_file = open(src, "rb")  # by whoever runs the command: the stick may be root's
    except OSError as exc:
        raise LibraryError(f"The backup file {src} cannot be read ({exc.strerror}).") from None
    with backup_file:
        try:
            return privileges.as_owner_of(data_dir, lambda: _restore(
                backup_file, src.name, db_path, media_dir, force=force, in_use=in_use or processes_using))
        except OSError as exc:
            raise LibraryError(f"The backup could not be restored: {exc.strerror or exc}"
                               + (f" ({exc.filename})." if exc.filename else ".")) from None


def _restore(backup_file: BinaryIO, label: str, db_path: Path, media_dir: Path, *, force: bool,
             in_use: Callable[[Path], list[str]]) -> RestoreResult:
    data_dir = db_path.parent
    users = in_use(db_path)
    if users:
        raise LibraryError(
            "The library is in use by " + ", ".join(users) + ". Stop Evergreen first "
            "(sudo systemctl stop evergreen-kiosk evergreen-admin), then restore."
        )
    replaced = _has_content(db_path, media_dir)
    if replaced and not force:
        raise LibraryError(
            f"The library at {data_dir} already has residents, songs or history. "
            "Restoring would replace them: add --force if that is what you want."
        )
    tar = _open_backup(backup_file, label)
    with tar:
        manifest = _read_manifest(tar, label)
        members = _check_members(tar, manifest)
        _check_space(data_dir, media_dir, manifest)
        _remove_stale_staging(data_dir)
        if not media_dir.exists():
            media_dir.mkdir()
        media_fd = _open_dir(media_dir)
        try:
            return _unpack_and_switch(tar, manifest, members, db_path, media_fd, replaced)
        finally:
            os.close(media_fd)


def _unpack_and_switch(tar: tarfile.TarFile, manifest: dict, members: list[tarfile.TarInfo], db_path: Path,
                       media_fd: int, replaced: bool) -> RestoreResult:
    data_dir = db_path.parent
    # The database is staged beside the library; media files in the media folder's own
    # scratch folder (same disk, so the final renames are atomic, and anything a power cut
    # leaves there is cleared by the startup check).
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=data_dir))
    try:
        os.mkdir(media.INCOMING, 0o750, dir_fd=media_fd)
    except FileExistsError:
        pass
    scratch_fd = os.open(media.INCOMING, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=media_fd)
    staged_media: dict[str, str] = {}   # media name -> its name in the scratch folder
    try:
        _extract_verified(tar, manifest, members, staging / "library.db", scratch_fd, staged_media)
        staged_db = staging / "library.db"
        counts = _prepare_db(staged_db)
        wanted = _check_files_present(staged_db, set(staged_media), set(manifest["missing"]))
        # 1. New media joins the folder; content-named files never clash with different content.
        for name, part in sorted(staged_media.items()):
            if _same_content(media_fd, name, scratch_fd, part):
                continue
            os.replace(part, name, src_dir_fd=scratch_fd, dst_dir_fd=media_fd)
        os.fsync(media_fd)
        # 2. The switch: settle the old database's WAL so no stale journal can be replayed
        #    onto the new file, then one rename.
        _settle_wal(db_path)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)   # unlink never follows a link
        os.replace(staged_db, db_path)
        durable.fsync_dir(data_dir)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise LibraryError("There is not enough free space for this backup; nothing was changed.") from None
        raise LibraryError(f"The backup could not be unpacked ({exc}).") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for part in staged_media.values():
            try:
                os.unlink(part, dir_fd=scratch_fd)
            except FileNotFoundError:
                pass
        os.close(scratch_fd)
    # 3. Files only the old library used: plain files with a media name, nothing else.
    removed = 0
    if replaced:
        with os.scandir(media_fd) as entries:
            for entry in entries:
                if entry.name not in wanted and media.is_stored_name(entry.name) \
                        and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.name, dir_fd=media_fd)
                    removed += 1
    return RestoreResult(files=len(members) - 1, replaced=replaced, removed_files=removed,
                         missing=sorted(manifest["missing"]), **counts)


def _open_backup(backup_file: BinaryIO, label: str) -> tarfile.TarFile:
    """A plain tar, as `backup` writes it. A compressed file is refused before it is
    unpacked: a small one can expand to far more than it says."""
    head = backup_file.read(6)
    backup_file.seek(0)
    for magic, kind in _COMPRESSED:
        if head.startswith(magic):
            raise LibraryError(f"{label} is compressed ({kind}); Evergreen restores the plain .tar file "
                               "that `backup` wrote. Unpack it first.")
    try:
        return tarfile.open(fileobj=backup_file, mode="r:")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise LibraryError(f"{label} is not an Evergreen backup (it cannot be read as one: {exc}).") from None


def _read_manifest(tar: tarfile.TarFile, label: str) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise LibraryError(f"{label} is not an Evergreen backup, or it is incomplete (no manifest).") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise LibraryError(f"The backup file is damaged or cut short ({exc}).") from None
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE) or member.size > MANIFEST_MAX_BYTES:
        raise LibraryError("The backup's manifest is not a plain file of a sensible size.")
    try:
        manifest = json.loads(tar.extractfile(member).read())
    except (ValueError, tarfile.TarError, OSError, EOFError, AttributeError):
        raise LibraryError("The backup's manifest is damaged: it cannot be read.") from None
    return check_manifest(manifest, label)


def check_manifest(manifest: Any, label: str = "The file") -> dict[str, Any]:
    """The manifest as restore relies on it, or one plain sentence saying what is wrong."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise LibraryError(f"{label} is not an Evergreen backup.")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise LibraryError("The backup's manifest is damaged: its version is not a number.")
    if version > FORMAT_VERSION:
        raise LibraryError("This backup was made by a newer version of Evergreen: update this one first.")
    files, missing = manifest.get("files"), manifest.get("missing", [])
    if not isinstance(files, list) or not isinstance(missing, list):
        raise LibraryError("The backup's manifest is damaged: its list of files cannot be read.")
    names: set[str] = set()
    for entry in files:
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                and isinstance(entry.get("size"), int) and not isinstance(entry.get("size"), bool)
                and entry["size"] >= 0 and isinstance(entry.get("sha256"), str) and _HEX64.fullmatch(entry["sha256"])):
            raise LibraryError("The backup's manifest is damaged: an entry lacks a name, size or checksum.")
        name = entry["name"]
        if name != DB_MEMBER and not (name.startswith(MEDIA_PREFIX) and media.is_stored_name(name[len(MEDIA_PREFIX):])):
            raise LibraryError(f"The backup lists a file with an unsafe name ({name[:80]!r}).")
        if name in names:
            raise LibraryError(f"The backup lists {name[:80]!r} twice.")
        names.add(name)
    if DB_MEMBER not in names:
        raise LibraryError("The backup has no database in it.")
    if not all(isinstance(m, str) and media.is_stored_name(m) for m in missing):
        raise LibraryError("The backup's manifest is damaged: its list of missing files cannot be read.")
    return {**manifest, "files": files, "missing": missing}


def _check_members(tar: tarfile.TarFile, manifest: dict[str, Any]) -> list[tarfile.TarInfo]:
    """Every member a plain file the manifest lists, of the size it lists, each once, and
    nothing listed missing: all from the headers, before a byte is written."""
    expected = {e["name"]: e for e in manifest["files"]}
    seen: dict[str, tarfile.TarInfo] = {}
    try:
        members = tar.getmembers()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise LibraryError(f"The backup file is damaged or cut short ({exc}).") from None
    for m in members:
        if m.name == MANIFEST:
            continue
        if m.name not in expected or m.name in seen:
            raise LibraryError(f"The backup holds something its manifest does not list ({m.name[:80]!r}).")
        if m.type not in (tarfile.REGTYPE, tarfile.AREGTYPE) or m.issparse():
            raise LibraryError(f"The backup holds {m.name[:80]!r} as something other than a plain file.")
        if m.size != expected[m.name]["size"]:
            raise LibraryError(f"The backup is damaged: {PurePosixPath(m.name).name} is not the size its manifest says.")
        seen[m.name] = m
    lacking = sorted(set(expected) - set(seen))
    if lacking:
        raise LibraryError(f"The backup is incomplete: {len(lacking)} file(s) listed in it are missing, e.g. {lacking[0]}.")
    return list(seen.values())


def _check_space(data_dir: Path, media_dir: Path, manifest: dict[str, Any]) -> None:
    """Room for everything the manifest lists (whose sizes the members have matched)."""
    db_bytes = sum(e["size"] for e in manifest["files"] if e["name"] == DB_MEMBER)
    media_bytes = sum(e["size"] for e in manifest["files"] if e["name"] != DB_MEMBER)
    needs: dict[int, int] = {}
    for folder, size in ((data_dir, db_bytes), (media_dir if media_dir.exists() else data_dir, media_bytes)):
        dev = os.stat(folder).st_dev
        needs[dev] = needs.get(dev, 0) + size
        st = os.statvfs(folder)
        free = st.f_bavail * st.f_frsize
        if needs[dev] + SPARE_BYTES > free:
            raise LibraryError(f"There is not enough free space for this backup: it needs {_mb(needs[dev] + SPARE_BYTES)} "
                               f"and {folder} has {_mb(free)} free. Nothing was changed.")


def _extract_verified(tar: tarfile.TarFile, manifest: dict[str, Any], members: list[tarfile.TarInfo],
                      db_out: Path, scratch_fd: int, staged_media: dict[str, str]) -> None:
    """Unpack the database to `db_out` and media into the scratch folder (recorded in
    `staged_media`), each checked against its manifest entry."""
    expected = {e["name"]: e for e in manifest["files"]}
    token = secrets.token_hex(4)
    try:
        for m in members:
            if m.name == DB_MEMBER:
                out = os.open(db_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
            else:
                name = m.name[len(MEDIA_PREFIX):]
                part = f"restore-{token}-{name}.part"
                out = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640, dir_fd=scratch_fd)
                staged_media[name] = part
            _copy_checked(tar.extractfile(m), out, expected[m.name])
    except (tarfile.TarError, EOFError) as exc:
        raise LibraryError(f"The backup file is damaged or cut short ({exc}).") from None
    os.fsync(scratch_fd)


def _copy_checked(fh: IO[bytes] | None, out: int, entry: dict) -> None:
    """Copy exactly the manifest's size, never more, then compare the checksum."""
    with open(out, "wb") as dst:
        if fh is None:
            raise LibraryError(f"The backup's {entry['name']} cannot be read.")
        h = hashlib.sha256()
        left = entry["size"]
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    if left or h.hexdigest() != entry["sha256"]:
        raise LibraryError(f"The backup is damaged: {PurePosixPath(entry['name']).name} does not match its checksum.")


def _prepare_db(path: Path) -> dict[str, int]:
    """Check the staged database, bring its schema up to date, and leave it as one file."""
    try:
        conn = sqlite3.connect(str(path))
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise LibraryError(f"The database in the backup cannot be opened ({exc}).") from None
    if ok != "ok":
        raise LibraryError(f"The database in the backup is damaged ({ok}).")
    db = dbmod.connect(path)  # runs any newer migrations
    try:
        counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("residents", "songs", "plays")}
        fk = db.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            raise LibraryError("The database in the backup has rows pointing at missing rows; it cannot be used.")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
    finally:
        db.close()
    durable.fsync_file(path)
    return counts


def _check_files_present(staged_db: Path, staged: set[str], known_missing: set[str]) -> set[str]:
    """The media names the restored library uses. Files the backup itself recorded as
    already missing are let through (the startup check reports them); any other gap means
    the backup is not what its manifest says."""
    conn = sqlite3.connect(str(staged_db))
    try:
        wanted = referenced_files(conn)
    finally:
        conn.close()
    lacking = sorted(n for n in wanted if n not in staged and n not in known_missing)
    if lacking:
        raise LibraryError(
            f"The backup's library names {len(lacking)} media file(s) that the backup does not hold, "
            f"e.g. {lacking[0]}."
        )
    return wanted


def _same_content(media_fd: int, name: str, scratch_fd: int, part: str) -> bool:
    """Is `name` already in the media folder as a plain file with the staged file's bytes?"""
    try:
        have = os.stat(name, dir_fd=media_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(have.st_mode) or have.st_size != os.stat(part, dir_fd=scratch_fd).st_size:
        return False
    return _sha256_at(media_fd, name) == _sha256_at(scratch_fd, part)


def _has_content(db_path: Path, media_dir: Path) -> bool:
    if media_dir.is_dir() and any(f.is_file() for f in media_dir.iterdir()):
        return True
    if not db_path.exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            return any(
                conn.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0]
                for t in _CONTENT_TABLES if t in tables
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return True  # unreadable: treat as something worth keeping


def _settle_wal(db_path: Path) -> None:
    """Fold any WAL into the old database so deleting the WAL loses nothing of it."""
    if not _regular_file(db_path):
        return
    try:
        conn = sqlite3.connect(str(db_path))
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        pass  # a damaged old database: it is being replaced anyway


def _remove_stale_staging(data_dir: Path) -> None:
    for d in data_dir.glob(STAGING_PREFIX + "*"):
        if d.is_dir() and not d.is_symlink():
            shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------- helpers

def processes_using(path: Path) -> list[str]:
    """Other processes with the database open ("pid 123 (python3)"), from /proc.

    Only processes this user may inspect are seen; run restore as root on the appliance.
    """
    targets = {str(path), f"{path}-wal", f"{path}-shm"}
    found: list[str] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    me = os.getpid()
    for p in proc.iterdir():
        if not p.name.isdigit() or int(p.name) == me:
            continue
        try:
            for fd in (p / "fd").iterdir():
                try:
                    if os.readlink(fd) in targets:
                        comm = (p / "comm").read_text().strip()
                        found.append(f"pid {p.name} ({comm})")
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return found


def _sha256_at(dir_fd: int, name: str) -> str:
    h = hashlib.sha256()
    with open(os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd), "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _refuse_links(db_path: Path, media_dir: Path) -> None:
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
    if db_path.exists() and not _regular_file(db_path):
        raise LibraryError(f"{db_path} is not a plain file.")


def _open_dir(path: Path) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        raise LibraryError(f"The folder {path} cannot be opened ({exc.strerror}); "
                           "a link in its place is never followed.") from None


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 1e6 else f"{max(1, n // 1000)} KB"


def _same_file_or_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def describe(names: Iterable[str]) -> str:
    names = list(names)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
