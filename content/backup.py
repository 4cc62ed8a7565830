"""Backing up the whole library into one file, and restoring it on this or another Pi.

A backup is a plain tar file:

    evergreen-backup/library.db      a consistent snapshot (SQLite's online backup API,
                                     so the kiosk and the admin can keep running)
    evergreen-backup/media/<name>    every media file the snapshot refers to
    evergreen-backup/manifest.json   written last: format, schema, sizes and SHA-256 of
                                     every file above

Restore checks every checksum and the database's integrity in staging places on the
library's own disk before touching it, brings the schema up to date, and switches the library
over with a single rename of the database file. Media files are named by their content,
so the new files can join the media folder before the switch without disturbing the old
library; files that only the old library used are removed after it. A restore that stops
half way (an error, a power cut) leaves the old library as it was.
"""
from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterable

from content import db as dbmod
from content import durable
from content import media
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
    stamp = now() if now else utc_iso(fraction=False)

    try:
        return _write_backup(db_path, media_dir, dest, stamp)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise LibraryError(f"There is not enough free space in {dest.parent} for the backup.") from None
        raise LibraryError(f"The backup could not be written ({exc}).") from None


def _write_backup(db_path: Path, media_dir: Path, dest: Path, stamp: str) -> BackupResult:
    with tempfile.TemporaryDirectory(prefix=".evergreen-backup-", dir=dest.parent) as tmp:
        snapshot = Path(tmp) / "library.db"
        schema = _snapshot(db_path, snapshot)
        names, missing = _media_names(snapshot, media_dir)
        entries: list[dict] = []
        total = 0
        # Only its owner may read it: it holds families' notes and the accounts' password hashes.
        # The name appears only after the tar's closing blocks are on disk.
        with durable.atomic_file(dest, mode=0o600) as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                entries.append(_add_file(tar, snapshot, DB_MEMBER))
                for name in names:
                    try:
                        entry = _add_file(tar, media_dir / name, MEDIA_PREFIX + name)
                    except FileNotFoundError:
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
                    "missing": missing,
                }
                data = json.dumps(manifest, indent=1).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(time.time())
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    return BackupResult(path=dest, files=len(entries) - 1, bytes=total, missing=sorted(missing))


def _snapshot(db_path: Path, out: Path) -> list[str]:
    """Copy the live database with SQLite's online backup API; returns the applied migrations."""
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=dbmod.BUSY_TIMEOUT_MS / 1000)
    try:
        src.execute(f"PRAGMA busy_timeout={dbmod.BUSY_TIMEOUT_MS}")
        dst = sqlite3.connect(str(out))
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise LibraryError(f"The library's database is damaged ({ok}); a backup of it would be too.")
            try:
                schema = [r[0] for r in dst.execute("SELECT name FROM _sqlite_migrations ORDER BY applied_at, name")]
            except sqlite3.OperationalError:
                schema = []
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise LibraryError(f"The library at {db_path} could not be read: {exc}.") from exc
    finally:
        src.close()
        # Opening a WAL database leaves -wal/-shm files behind; when backup runs as root
        # they must still belong to the service user, or the kiosk could not open the library.
        owner = _owner(db_path)
        for suffix in ("-wal", "-shm"):
            side = Path(f"{db_path}{suffix}")
            if side.exists():
                _chown(side, owner)
    return schema


def referenced_files(conn: sqlite3.Connection) -> set[str]:
    """Media file names a library refers to: song audio and resident photos."""
    names = {f"{sha}.{ext}" for sha, ext in conn.execute("SELECT sha256, ext FROM songs")}
    names |= {p for (p,) in conn.execute("SELECT photo FROM residents WHERE photo IS NOT NULL AND photo != ''")}
    return {n for n in names if _safe_name(n)}


def _media_names(snapshot: Path, media_dir: Path) -> tuple[list[str], list[str]]:
    conn = sqlite3.connect(str(snapshot))
    try:
        wanted = referenced_files(conn)
    finally:
        conn.close()
    present = sorted(n for n in wanted if (media_dir / n).is_file())
    missing = sorted(wanted - set(present))
    return present, missing


def _add_file(tar: tarfile.TarFile, path: Path, member: str) -> dict:
    """Add one file to the tar, hashing it as it streams in."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        info = tarfile.TarInfo(member)
        info.size = st.st_size
        info.mtime = int(st.st_mtime)
        info.mode = 0o644
        reader = _HashingReader(fh)
        tar.addfile(info, reader)
        if reader.count != st.st_size:
            raise LibraryError(f"{path.name} changed while it was being backed up; try again.")
    return {"name": member, "size": st.st_size, "sha256": reader.hexdigest()}


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
    users = (in_use or processes_using)(db_path)
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
    _remove_stale_staging(data_dir)
    owner = _owner(data_dir)
    if not media_dir.exists():
        media_dir.mkdir(parents=True)
        _chown(media_dir, owner)
    # The database is staged beside the library; media files in the media folder's own
    # scratch folder (same disk, so the final renames are atomic, and anything a power cut
    # leaves there is cleared by the startup check).
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=data_dir))
    scratch = media_dir / media.INCOMING
    if not scratch.exists():
        scratch.mkdir()
        _chown(scratch, owner)
    staged_media: dict[str, Path] = {}
    try:
        manifest = _extract_verified(src, staging / "library.db", scratch, staged_media)
        staged_db = staging / "library.db"
        counts = _prepare_db(staged_db)
        wanted = _check_files_present(staged_db, staged_media, set(manifest.get("missing", [])))
        # 1. New media joins the folder; content-named files never clash with different content.
        for name, f in sorted(staged_media.items()):
            target = media_dir / name
            if target.exists() and target.stat().st_size == f.stat().st_size and _sha256(target) == _sha256(f):
                continue
            _chown(f, owner)
            os.replace(f, target)
        durable.fsync_dir(media_dir)
        # 2. The switch: settle the old database's WAL so no stale journal can be replayed
        #    onto the new file, then one rename.
        _settle_wal(db_path)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        _chown(staged_db, owner)
        os.replace(staged_db, db_path)
        durable.fsync_dir(data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for f in staged_media.values():
            f.unlink(missing_ok=True)
    # 3. Files only the old library used.
    removed = 0
    if replaced:
        for f in media_dir.iterdir():
            if f.is_file() and f.name not in wanted and _safe_name(f.name):
                f.unlink()
                removed += 1
    return RestoreResult(files=sum(1 for e in manifest["files"] if e["name"].startswith(MEDIA_PREFIX)),
                         replaced=replaced, removed_files=removed, missing=sorted(manifest.get("missing", [])),
                         **counts)


def _extract_verified(src: Path, db_out: Path, scratch: Path, staged_media: dict[str, Path]) -> dict:
    """Unpack the database to `db_out` and media into `scratch` (recorded in `staged_media`),
    checking every name, size and checksum against the manifest."""
    try:
        tar = tarfile.open(src, mode="r:*")
    except (tarfile.TarError, OSError) as exc:
        raise LibraryError(f"{src.name} is not an Evergreen backup (it cannot be read as one: {exc}).") from None
    with tar:
        try:
            member = tar.getmember(MANIFEST)
        except KeyError:
            raise LibraryError(f"{src.name} is not an Evergreen backup, or it is incomplete (no manifest).") from None
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise LibraryError(f"The backup file is damaged or cut short ({exc}).") from None
        try:
            manifest = json.loads(tar.extractfile(member).read())
        except (ValueError, tarfile.TarError, OSError) as exc:
            raise LibraryError(f"The backup's manifest is damaged ({exc}).") from None
        if manifest.get("format") != FORMAT:
            raise LibraryError(f"{src.name} is not an Evergreen backup.")
        if int(manifest.get("version", 0)) > FORMAT_VERSION:
            raise LibraryError("This backup was made by a newer version of Evergreen: update this one first.")
        expected = {e["name"]: e for e in manifest.get("files", [])}
        if DB_MEMBER not in expected:
            raise LibraryError("The backup has no database in it.")
        seen: set[str] = set()
        token = secrets.token_hex(4)
        try:
            for m in tar:
                if m.name == MANIFEST:
                    continue
                if m.name not in expected or not m.isfile() or m.name in seen:
                    raise LibraryError(f"The backup holds something its manifest does not list ({m.name}).")
                if m.name == DB_MEMBER:
                    out = db_out
                else:
                    name = m.name[len(MEDIA_PREFIX):]
                    if not m.name.startswith(MEDIA_PREFIX) or not _safe_name(name):
                        raise LibraryError(f"The backup holds a file with an unsafe name ({m.name}).")
                    out = scratch / f"restore-{token}-{name}.part"
                    staged_media[name] = out
                _copy_checked(tar.extractfile(m), out, expected[m.name])
                seen.add(m.name)
        except (tarfile.TarError, EOFError) as exc:
            raise LibraryError(f"The backup file is damaged or cut short ({exc}).") from None
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise LibraryError("There is not enough free space for this backup; nothing was changed.") from None
            raise LibraryError(f"The backup could not be read or unpacked ({exc}).") from None
        lacking = sorted(set(expected) - seen)
        if lacking:
            raise LibraryError(f"The backup is incomplete: {len(lacking)} file(s) listed in it are missing, e.g. {lacking[0]}.")
    durable.fsync_dir(scratch)
    return manifest


def _copy_checked(fh: IO[bytes] | None, out: Path, entry: dict) -> None:
    if fh is None:
        raise LibraryError(f"The backup's {entry['name']} cannot be read.")
    h = hashlib.sha256()
    size = 0
    with open(out, "wb") as dst:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    if size != entry["size"] or h.hexdigest() != entry["sha256"]:
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


def _check_files_present(staged_db: Path, staged_media: dict[str, Path], known_missing: set[str]) -> set[str]:
    """The media names the restored library uses. Files the backup itself recorded as
    already missing are let through (the startup check reports them); any other gap means
    the backup is not what its manifest says."""
    conn = sqlite3.connect(str(staged_db))
    try:
        wanted = referenced_files(conn)
    finally:
        conn.close()
    lacking = sorted(n for n in wanted if n not in staged_media and n not in known_missing)
    if lacking:
        raise LibraryError(
            f"The backup's library names {len(lacking)} media file(s) that the backup does not hold, "
            f"e.g. {lacking[0]}."
        )
    return wanted


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
    if not db_path.exists():
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
        if d.is_dir():
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _safe_name(name: str) -> bool:
    """A plain file name: no folders, no hidden or temporary files."""
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".") and name not in ("..",) and "\x00" not in name


def _owner(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid


def _chown(path: Path, owner: tuple[int, int]) -> None:
    """Restored files belong to whoever owns the data folder (the service user on the
    appliance), even when restore runs as root."""
    if os.geteuid() == 0 and (path.stat().st_uid, path.stat().st_gid) != owner:
        os.chown(path, *owner)


def _same_file_or_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def describe(names: Iterable[str]) -> str:
    names = list(names)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
