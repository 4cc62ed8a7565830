"""Writes that survive a power cut: a finished name never points at half a file.

The one pattern, used everywhere a file is written whole: write a temporary file in the
same folder, flush and fsync it, rename it over the final name, then fsync the folder so
the rename itself is on disk. (The media folder's own `media.Incoming` does the same for
songs and photos, hashing as it copies.)
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator


def fsync_dir(path: str | Path) -> None:
    """Make a rename or a new name in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: str | Path) -> None:
    """Flush a file that something else (SQLite, a copy) wrote to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str | Path, *, mode: int = 0o644, text: bool = False,
                exclusive: bool = False) -> Iterator[IO]:
    """Open a temporary file beside `path` for writing; when the block ends without an
    error it is fsynced and renamed to `path`, and the folder fsynced. On an error the
    temporary file is removed and `path` is untouched.

    `exclusive`: the first writer wins. An existing `path` is kept as it is (two processes
    creating the same key at once both end up reading the same one)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w" if text else "wb", **({"encoding": "utf-8"} if text else {})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        else:
            os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_atomic(path: str | Path, data: bytes | str, *, mode: int = 0o644, exclusive: bool = False) -> None:
    """`data` to `path`, whole or not at all (see `atomic_file`)."""
    with atomic_file(path, mode=mode, text=isinstance(data, str), exclusive=exclusive) as fh:
        fh.write(data)
