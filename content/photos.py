"""A resident's photo: checked to be a picture, stored once in the media folder under
its SHA-256 (as songs are, through `media.Incoming`), and only then pointed at."""
from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import sqlite_utils

from content import library, media, storage
from content.db import LibraryError, write

PHOTO_MAX_BYTES = 10 * 1024 * 1024
PREFIX = "photo-"
_KINDS = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))
FULL_DISK = storage.FULL_WORDS


def photo_kind(head: bytes) -> str | None:
    """The picture's real format from its first bytes (JPEG, PNG or WebP), or None."""
    for magic, ext in _KINDS:
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


class _Rejoined(io.RawIOBase):
    """The bytes already read to learn the format, then the rest of the source."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            out, self._head = self._head, b""
            return out
        return self._rest.read(size)


def set_photo(db: sqlite_utils.Database, media_dir: Path, resident_id: int, source: BinaryIO, *,
              user_id: int | None = None) -> str:
    """Store a resident's photo (JPEG, PNG or WebP, up to 10 MB) as media/photo-<sha256>.<ext>,
    written whole before the row points at it; the old photo goes when no one uses it.
    `source` is a readable binary file."""
    head = source.read(16)
    kind = photo_kind(head)
    if kind is None:
        raise LibraryError("That file is not a photo we can show. Please choose a JPEG or PNG picture.")
    media_dir = Path(media_dir)
    with media.locked(media_dir), media.Incoming(media_dir) as incoming:
        try:
            incoming.copy_from(_Rejoined(head, source), max_bytes=PHOTO_MAX_BYTES)
        except ValueError:
            raise LibraryError("That photo is too big. Please choose one under 10 MB.") from None
        except media.StorageFull:
            raise LibraryError(FULL_DISK) from None
        name = incoming.place(kind, prefix=PREFIX).name
        with write(db):
            old = library.get_resident(db, resident_id).photo
            db["residents"].update(resident_id, {"photo": name})
            library.audit(db, "resident.photo", user_id=user_id, resident_id=resident_id)
            still_used = old and list(db.query("SELECT 1 FROM residents WHERE photo = ?", [old]))
        if old and old != name and not still_used:
            (media_dir / old).unlink(missing_ok=True)
    return name
