"""The box's storage: is an error a full disk, what to tell people when it is, and how full
the library's disk is (staff are warned from NEARLY_FULL on)."""
from __future__ import annotations

import errno
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

NEARLY_FULL = 0.90
FULL_WORDS = ("The music box's storage is full, so nothing was saved. "
              "Please tell the care staff: they can make room, then try again.")


def is_full(exc: BaseException | None) -> bool:
    """A disk (or quota) that is full, however it was reported: by the OS, or by SQLite."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, sqlite3.Error) and ("full" in str(exc).lower()
                                               or getattr(exc, "sqlite_errorcode", None) == 13):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


ALMOST_NO_ROOM = 1024 * 1024


def full_explains(exc: BaseException | None, folder: Path) -> bool:
    """Is a full disk the reason for this error? Either it says so, or it is an input/output
    error (SQLite reports a -shm file it cannot grow as "disk I/O error") while the disk
    holding `folder` has almost no room left."""
    if is_full(exc):
        return True
    chain = []
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    if not any(isinstance(e, (OSError, sqlite3.Error)) for e in chain):
        return False
    try:
        return usage(folder).free < ALMOST_NO_ROOM
    except OSError:
        return False


@dataclass(frozen=True)
class Usage:
    used: int
    total: int

    @property
    def free(self) -> int:
        return self.total - self.used

    @property
    def fraction(self) -> float:
        return self.used / self.total if self.total else 0.0

    @property
    def nearly_full(self) -> bool:
        return self.fraction >= NEARLY_FULL

    def words(self) -> str:
        free_mb = (self.total - self.used) / 1e6
        return (f"The music box's storage is {self.fraction:.0%} full ({free_mb:,.0f} MB left). "
                "Remove songs no one listens to, or move the library to a bigger card, before it fills up.")


def usage(path: Path) -> Usage:
    st = os.statvfs(path)
    total = st.f_blocks * st.f_frsize
    return Usage(used=total - st.f_bavail * st.f_frsize, total=total)
