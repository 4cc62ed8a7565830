"""Doing library work as the library's owner, even when a command was started as root.

Backup and restore are run with sudo on the appliance, because the backup file lives on a
USB stick only root may write. Everything they do inside the library, though, runs as the
user who owns the data folder (the service user), in a child process that has given up
root: a link planted in the library then leads nowhere that user could not already reach,
and every file the work creates belongs to that user without any chown.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Callable, TypeVar

from content.db import LibraryError

T = TypeVar("T")


def owner_of(folder: Path) -> tuple[int, int]:
    st = os.lstat(folder)
    return st.st_uid, st.st_gid


def as_owner_of(folder: Path, work: Callable[[], T]) -> T:
    """`work()` run as the owner of `folder`: in this process when that is already who we
    are (or the folder is root's), otherwise in a forked child that drops root first.
    The child's result or exception comes back to the caller as if it had run here."""
    uid, gid = owner_of(folder)
    if os.geteuid() != 0 or uid == 0:
        return work()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            try:
                payload = pickle.dumps((True, work()))
            except BaseException as exc:  # noqa: BLE001 - handed to the parent
                try:
                    payload = pickle.dumps((False, exc))
                except Exception:  # noqa: BLE001 - an exception that cannot be pickled
                    payload = pickle.dumps((False, LibraryError(f"{type(exc).__name__}: {exc}")))
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        except BaseException:  # noqa: BLE001 - the parent reports it
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        payload = answer.read()
    _, wait_status = os.waitpid(pid, 0)
    if not payload:
        code = os.waitstatus_to_exitcode(wait_status)
        raise LibraryError(f"The work stopped unexpectedly (exit status {code}); nothing more was done.")
    ok, value = pickle.loads(payload)
    if ok:
        return value
    raise value
