"""The media folder: every song stored once, named by its SHA-256.

A file enters through `incoming()`: it is written to `.incoming/` beside the finished
files, fsynced, then renamed into place, so a finished name never points at half a file.
A row in `songs` is only written after its file is whole (ingest's order). Anything left
in `.incoming/` was interrupted and is removed by `content.integrity`.

Writers take the folder lock shared; the integrity repair takes it exclusively, so it
never removes a file an import is about to record.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO, Iterator

from content.durable import fsync_dir

INCOMING = ".incoming"
LOCK = ".lock"
CHUNK = 1024 * 1024
LARGEST_SONG_BYTES = 1024 * 1024 * 1024     # 1 GiB: more than any song; stops a disk image by mistake
PHOTO_EXTENSIONS = frozenset({"jpg", "png", "webp"})
_STORED_NAME = re.compile(r"(photo-)?([0-9a-f]{64})\.([a-z0-9]{1,5})")


class StorageFull(Exception):
    """The disk holding the library is full."""


def audio_extensions() -> frozenset[str]:
    """The extensions songs are stored under: one per format ingest knows."""
    from content.tags import FORMATS  # mutagen is loaded only by code that needs names checked
    return frozenset(ext for _fmt, ext in FORMATS.values())


def is_stored_name(name: str) -> bool:
    """A name the media folder may hold: a song's "<sha256>.<ext>" or a photo's
    "photo-<sha256>.<ext>", with an extension of that kind. Tools that take names from
    outside (a backup) or delete by name (restore) accept nothing else."""
    found = _STORED_NAME.fullmatch(name or "")
    if found is None:
        return False
    photo, ext = bool(found.group(1)), found.group(3)
    return ext in PHOTO_EXTENSIONS if photo else ext in audio_extensions()


def is_song_name(name: str) -> bool:
    """A song's stored name, "<sha256>.<ext>" with an audio extension: the only names the
    sync agent takes from a hub."""
    return is_stored_name(name) and not name.startswith("photo-")


def final_path(media: Path, sha256: str, ext: str) -> Path:
    return media / f"{sha256}.{ext}"


@contextlib.contextmanager
def locked(media: Path, exclusive: bool = False) -> Iterator[None]:
    media.mkdir(parents=True, exist_ok=True)
    with open(media / LOCK, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class Incoming:
    """A file being copied into the media folder. Removed on close unless placed."""

    def __init__(self, media: Path) -> None:
        self.media = media
        self.dir = media / INCOMING
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / f"{secrets.token_hex(8)}.part"
        self.sha256 = ""
        self.size = 0
        self._placed = False

    def copy_from(self, src: BinaryIO, max_bytes: int | None = None) -> None:
        """Copy and hash in one pass; fsync before returning. Raises StorageFull, or
        ValueError when the source exceeds max_bytes."""
        digest = hashlib.sha256()
        try:
            with open(self.path, "wb") as out:
                while chunk := src.read(CHUNK):
                    self.size += len(chunk)
                    if max_bytes is not None and self.size > max_bytes:
                        raise ValueError("too big")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull() from exc
            raise
        self.sha256 = digest.hexdigest()

    def with_extension(self, ext: str) -> Path:
        """Rename the scratch copy so its name carries its real format (libvlc picks a
        demuxer by extension: an OGG called .mp3 would play as silence)."""
        target = self.path.with_suffix(f".{ext}.part")
        os.replace(self.path, target)
        self.path = target
        return target

    def place(self, ext: str, *, prefix: str = "") -> Path:
        """Move the whole, fsynced file to media/<prefix><sha256>.<ext>. If that name exists
        already (the same content), keep the existing file."""
        target = self.media / f"{prefix}{self.sha256}.{ext}"
        if target.exists():
            self.discard()
        else:
            os.replace(self.path, target)
            fsync_dir(self.media)
        self._placed = True
        return target

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def close(self) -> None:
        if not self._placed:
            self.discard()

    def __enter__(self) -> "Incoming":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stored_files(media: Path) -> list[Path]:
    """Finished media files (not scratch files, not the lock)."""
    if not media.exists():
        return []
    return [p for p in media.iterdir() if p.is_file() and not p.name.startswith(".")]


def scratch_files(media: Path) -> list[Path]:
    d = media / INCOMING
    return [p for p in d.iterdir() if p.is_file()] if d.exists() else []
