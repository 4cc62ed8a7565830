"""Numbered schema migrations, applied in order whenever the library is opened.

Each module here named `mNNNN_what.py` defines `migrate(db)`; the module name is the
migration's name in `_sqlite_migrations`, so never rename or renumber one that has
shipped. Add a new module for every schema change.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
import sqlite3

from sqlite_utils.migrations import Migrations

def run_script(db, script: str) -> None:
    """Run several statements inside the caller's transaction.

    sqlite3's executescript() would COMMIT first and break the migration's atomicity,
    so statements are split and run one by one.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement!r}")


@functools.cache
def registry() -> Migrations:
    """Every migration module here, in order; found and imported on first use, not when
    this package is imported."""
    migrations = Migrations("evergreen")
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("m"))
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        migrations(name=name)(module.migrate)
    return migrations
