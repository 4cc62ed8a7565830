"""Media files on a box in hub mode: fetched by hash, whole or not at all, and removed a
while after nothing uses them.

A download goes to `<data>/sync/downloads/<name>.part` (outside media/, so `content check`
never sees half a file) and resumes from where it stopped with a Range request. Once the
last byte is in, it is fsynced and its SHA-256 checked against the name; wrong bytes are
thrown away and fetched again from the start. Only then is the file recorded in
`sync_files` and renamed into media/ (and the folder fsynced): a power cut at any moment
leaves either no file in media/ or a whole one that the agent owns.

Nothing a hub says is trusted to name a path or a size: a song is taken only when its file
is named like a stored song ("<sha256>.<ext>", see `content.media.is_song_name`) and its
size is one a song can have (at most `MAX_FILE_BYTES`, the largest song any library takes),
and a download starts only when the disk has room for it and `KEEP_FREE` besides.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
from pathlib import Path
from typing import Any, Callable

import sqlite_utils

from content import media, storage
from content.db import write
from content.durable import fsync_dir
from content.timestamps import utc_iso
from content.sync.client import HubClient, HubUnreachable

CHUNK = 256 * 1024
GRACE_DAYS = 7
MAX_FILE_BYTES = media.LARGEST_SONG_BYTES
KEEP_FREE = 64 * 1024 * 1024        # left for the library's database, its journal and the logs


class Tampered(Exception):
    """What arrived is not the file that was asked for (its hash or size is wrong)."""


class Gone(Exception):
    """The hub no longer offers this file to this box."""


class Refused(Exception):
    """The hub named a file this box will not take: a name that is not a stored song's, or a
    size no song has."""


class NoRoom(Exception):
    """The box's disk has no room for this download; nothing was fetched."""


def downloads_dir(data: Path) -> Path:
    return data / "sync" / "downloads"


def refusal(song: dict[str, Any]) -> str | None:
    """Why this box will not take the file a song from the hub names, in words for the log,
    or None when it will."""
    sha, ext, size = song.get("sha256"), song.get("ext"), song.get("size_bytes")
    if not (isinstance(sha, str) and isinstance(ext, str) and media.is_song_name(f"{sha}.{ext}")):
        return f"its file name {f'{sha}.{ext}'[:80]!r} is not a song's fingerprint and format"
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_FILE_BYTES:
        return f"its size {str(size)[:20]!r} is not one a song can have (1 byte to {MAX_FILE_BYTES // 2**20} MB)"
    return None


def free_bytes(folder: Path) -> int:
    return storage.usage(folder).free


def fetch(client: HubClient, db: sqlite_utils.Database, media_dir: Path, downloads: Path, *, sha256: str,
          ext: str, size: int, progress: Callable[[int], None] = lambda n: None,
          room: Callable[[Path], int] = free_bytes) -> Path:
    """Download one file into media/ (see the module's docstring). Raises Refused, NoRoom,
    Tampered, Gone or HubUnreachable; a partial download stays for the next try unless its
    bytes were wrong."""
    why = refusal({"sha256": sha256, "ext": ext, "size_bytes": size})
    if why:
        raise Refused(f"A song from the hub was not taken: {why}.")
    name = f"{sha256}.{ext}"
    downloads.mkdir(parents=True, exist_ok=True)
    part = downloads / f"{name}.part"
    offset = part.stat().st_size if part.exists() else 0
    if offset >= size:
        part.unlink(missing_ok=True)
        offset = 0
    free = room(downloads)
    if free - (size - offset) < KEEP_FREE:
        raise NoRoom(f"{name} was not downloaded: it needs {_mb(size - offset)} and the music box's storage has "
                     f"room for {_mb(max(free - KEEP_FREE, 0))} more. Take songs off this box on the hub, or move "
                     "its library to a bigger card; the music plays on with what the box has.")
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    digest = hashlib.sha256()
    with client.open("GET", f"/api/box/media/{sha256}", headers=headers, timeout=60) as resp:
        if resp.status == 404:
            resp.read()
            raise Gone(name)
        if resp.status == 206 and offset:
            with open(part, "rb") as old:
                while chunk := old.read(CHUNK):
                    digest.update(chunk)
            mode = "ab"
        elif resp.status == 200:
            offset, mode = 0, "wb"
        else:
            resp.read()
            raise HubUnreachable(f"The hub answered {resp.status} for a song file.")
        total = offset
        with open(part, mode) as out:
            while chunk := resp.read(CHUNK):
                total += len(chunk)
                if total > size:
                    break
                digest.update(chunk)
                out.write(chunk)
                progress(len(chunk))
            out.flush()
            os.fsync(out.fileno())
    if total > size or (total == size and digest.hexdigest() != sha256):
        part.unlink(missing_ok=True)
        raise Tampered(f"{name}: the bytes that arrived do not match the song's fingerprint; fetching it again.")
    if total < size:
        raise HubUnreachable(f"{name}: the download stopped at {total} of {size} bytes.")
    target = media_dir / name
    with media.locked(media_dir):
        with write(db):
            db.execute("INSERT INTO sync_files (name, placed_at) VALUES (?, ?) "
                       "ON CONFLICT(name) DO UPDATE SET unused_since = NULL", [name, utc_iso()])
        os.replace(part, target)
        fsync_dir(media_dir)
    return target


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def have(media_dir: Path, name: str) -> bool:
    return (media_dir / name).is_file()


def collect_garbage(db: sqlite_utils.Database, media_dir: Path, downloads: Path, wanted: set[str], *,
                    grace: _dt.timedelta = _dt.timedelta(days=GRACE_DAYS),
                    now: _dt.datetime | None = None) -> list[str]:
    """Files the agent placed that no song uses start a grace period; after it they go.
    Partial downloads of files the hub no longer offers go at once. Returns removed names."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    stamp = utc_iso(now)
    cutoff = utc_iso(now - grace)
    removed: list[str] = []
    with media.locked(media_dir, exclusive=True):
        used = {f"{sha}.{ext}" for sha, ext in db.execute("SELECT sha256, ext FROM songs")} | wanted
        with write(db):
            for name, unused_since in db.execute("SELECT name, unused_since FROM sync_files").fetchall():
                if name in used:
                    if unused_since:
                        db.execute("UPDATE sync_files SET unused_since = NULL WHERE name = ?", [name])
                elif not unused_since:
                    db.execute("UPDATE sync_files SET unused_since = ? WHERE name = ?", [stamp, name])
                elif unused_since < cutoff:
                    (media_dir / name).unlink(missing_ok=True)
                    db.execute("DELETE FROM sync_files WHERE name = ?", [name])
                    removed.append(name)
        if removed:
            fsync_dir(media_dir)
    if downloads.exists():
        for part in downloads.glob("*.part"):
            if part.name[: -len(".part")] not in wanted:
                part.unlink(missing_ok=True)
    return removed
