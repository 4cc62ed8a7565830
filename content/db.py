"""The one module that opens the library database.

Every connection gets WAL, foreign keys, a busy timeout and the schema's migrations.
Every write goes through `write()`, which takes the write lock up front with
BEGIN IMMEDIATE: with a plain BEGIN two processes upgrading read locks to write locks
deadlock and SQLite answers "database is locked" at once, whatever the timeout.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Iterator

import sqlite_utils

from content.migrations import registry

BUSY_TIMEOUT_MS = 10_000


class LibraryError(Exception):
    """A problem with the library that a person can act on; the message says what."""


def connect(path: str | Path, *, migrate: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the library at `path`, migrated to the current schema."""
    path = Path(path)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level="IMMEDIATE": any implicit transaction Python opens is also
    # BEGIN IMMEDIATE, so a write that bypasses write() still cannot deadlock.
    conn = sqlite3.connect(
        str(path),
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level="IMMEDIATE",
        check_same_thread=False,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise LibraryError(f"The library at {path} could not be put in WAL mode.")
        conn.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise LibraryError(f"The library at {path} cannot be opened: {exc}.") from exc
    db = sqlite_utils.Database(conn)
    if migrate:
        migrate_db(db)
    return db


def migrate_db(db: sqlite_utils.Database) -> None:
    """Apply pending migrations inside one BEGIN IMMEDIATE, so that two processes
    starting together do not both try to migrate."""
    migrations = registry()
    if not migrations.pending(db):
        return
    with write(db):
        migrations.apply(db)


@contextlib.contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that holds the write lock from its first statement.

    Nested use becomes a savepoint (sqlite-utils' own atomic()).
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


@contextlib.contextmanager
def reading(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """Reads that must agree with each other, in one read transaction (or in the transaction
    already open), so a write committed in between cannot show half its change."""
    conn = db.conn
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        yield db
    finally:
        if own and conn.in_transaction:
            conn.execute("COMMIT")


def data_version(db: sqlite_utils.Database) -> int:
    """Changes whenever another connection commits: cheap to poll for "did the library change"."""
    return db.conn.execute("PRAGMA data_version").fetchone()[0]
