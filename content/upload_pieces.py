"""Songs sent from a phone in pieces: each piece is one small request from a signed-in
account, so no request is ever larger than PIECE_BYTES, and a song whose connection
dropped half way carries on from the last piece the box has, instead of starting again.

An upload is a folder entry of its own in the upload spool: `<id>.part` (the bytes so far,
fsynced after every piece) and `<id>.json` (whose it is, for which resident, its name and
size, and how much has arrived). The id is random and only the account that started the
upload, for that resident, may add to it or finish it. Uploads left unfinished for a day
are removed.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from content import durable, media
from content.db import LibraryError
from content.text import clean_line

PIECE_BYTES = 8 * 1024 * 1024
KEPT_S = 24 * 3600
_ID = re.compile(r"[A-Za-z0-9_-]{24}")
GONE = "This upload is no longer on the box (it was finished, or left for a day). Please send the song again."


class WrongOffset(LibraryError):
    """A piece that does not start where the box's copy ends; `received` says where to go on."""

    def __init__(self, received: int) -> None:
        super().__init__(f"The box has the first {received} bytes of this song; send the rest from there.")
        self.received = received


@dataclass
class PieceUpload:
    id: str
    user_id: int
    resident_id: int
    name: str
    size: int
    received: int
    started: float


class Pieces:
    def __init__(self, spool: Path) -> None:
        self.folder = Path(spool) / "pieces"

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        return self.folder / f"{upload_id}.json", self.folder / f"{upload_id}.part"

    def start(self, user_id: int, resident_id: int, name: str, size: int, max_bytes: int) -> PieceUpload:
        name = clean_line(name, "file name", 400) or "the file"
        if size <= 0:
            raise LibraryError(f"{name}: not added. The file is empty.")
        if size > max_bytes:
            raise LibraryError(f"{name}: not added. It is too big; the most is {max_bytes // (1024 * 1024)} MB.")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.clear_stale()
        upload = PieceUpload(id=secrets.token_urlsafe(18), user_id=user_id, resident_id=resident_id, name=name,
                             size=size, received=0, started=time.time())
        meta, part = self._paths(upload.id)
        try:
            os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            self._save(upload)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise media.StorageFull() if _full(exc) else exc
        return upload

    def get(self, upload_id: str, user_id: int, resident_id: int) -> PieceUpload:
        if not _ID.fullmatch(upload_id or ""):
            raise LibraryError(GONE)
        meta, part = self._paths(upload_id)
        try:
            upload = PieceUpload(**json.loads(meta.read_text()))
        except (OSError, ValueError, TypeError):
            raise LibraryError(GONE) from None
        if (upload.user_id, upload.resident_id) != (user_id, resident_id) or not part.exists():
            raise LibraryError(GONE)
        return upload

    def append(self, upload: PieceUpload, offset: int, stream: BinaryIO, length: int) -> PieceUpload:
        """Add one piece at `offset`, which must be where the copy so far ends. The piece is
        on disk (fsynced) before the upload says it has it; a piece that fails (a full disk)
        leaves the copy as it was."""
        if offset != upload.received:
            raise WrongOffset(upload.received)
        if length <= 0 or length > PIECE_BYTES or offset + length > upload.size:
            raise LibraryError("That piece does not fit this song; please send the song again.")
        meta, part = self._paths(upload.id)
        fd = os.open(part, os.O_WRONLY)
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            left = length
            while left:
                chunk = stream.read(min(left, media.CHUNK))
                if not chunk:
                    raise LibraryError("The piece arrived incomplete; please try again.")
                os.write(fd, chunk)
                left -= len(chunk)
            os.fsync(fd)
        except BaseException as exc:
            os.ftruncate(fd, offset)
            if isinstance(exc, OSError) and _full(exc):
                raise media.StorageFull() from exc
            raise
        finally:
            os.close(fd)
        upload.received = offset + length
        try:
            self._save(upload)
        except OSError as exc:
            raise media.StorageFull() if _full(exc) else exc
        return upload

    def whole(self, upload: PieceUpload) -> Path:
        if upload.received != upload.size:
            raise WrongOffset(upload.received)
        return self._paths(upload.id)[1]

    def discard(self, upload_id: str) -> None:
        for path in self._paths(upload_id):
            path.unlink(missing_ok=True)

    def clear_stale(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        if not self.folder.exists():
            return
        for meta in self.folder.glob("*.json"):
            try:
                started = json.loads(meta.read_text())["started"]
            except (OSError, ValueError, KeyError, TypeError):
                started = 0
            if now - started > KEPT_S:
                self.discard(meta.stem)

    def _save(self, upload: PieceUpload) -> None:
        durable.write_atomic(self._paths(upload.id)[0], json.dumps(asdict(upload)), mode=0o600)


def _full(exc: OSError) -> bool:
    from content import storage
    return storage.is_full(exc)
