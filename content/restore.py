"""Restoring a backup (see `content.backup`) in place of a library.

Restore checks the manifest, every member's type, name and size against it, and the free
space, before it writes anything (`content.backup_check`); then every checksum and the
database's integrity in staging places on the library's own disk before touching the
library. It brings the schema up to date and switches the library over with a single
rename of the database file. Media files are named by their content, so the new files can
join the media folder before the switch without disturbing the old library; files that
only the old library used are removed after it. A restore that stops half way (an error,
a power cut) leaves the old library as it was.
"""
from __future__ import annotations

import errno
import hashlib
import importlib.metadata  # noqa: F401 - see content.backup
import os
import shutil
import sqlite3
import stat
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable

from content import db as dbmod
from content import durable, media, privileges
from content.db import LibraryError
from content.backup import CHUNK, DB_MEMBER, referenced_files, refuse_links, regular_file
from content.backup_check import check_members, extract_verified, open_backup, read_manifest

@dataclass
class RestoreResult:
    files: int
    residents: int
    songs: int
    plays: int
    replaced: bool
    removed_files: int = 0
    missing: list[str] = field(default_factory=list)  # already missing when the backup was made


# Tables whose rows make a library worth protecting from an accidental restore.
_CONTENT_TABLES = ("residents", "songs", "users", "plays", "reactions")


STAGING_PREFIX = ".restore-"


SPARE_BYTES = 16 * 1024 * 1024            # left free on the library's disk after a restore


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
    refuse_links(db_path, media_dir)
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
    tar = open_backup(backup_file, label)
    with tar:
        manifest = read_manifest(tar, label)
        members = check_members(tar, manifest)
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
        extract_verified(tar, manifest, members, staging / "library.db", scratch_fd, staged_media)
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
    if not regular_file(db_path):
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


def _open_dir(path: Path) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        raise LibraryError(f"The folder {path} cannot be opened ({exc.strerror}); "
                           "a link in its place is never followed.") from None


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 1e6 else f"{max(1, n // 1000)} KB"
