"""Shared fixtures: a real library (SQLite file + media folder) in a temporary folder."""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils

from content import db as dbmod
from content import library


@dataclass
class Lib:
    db: sqlite_utils.Database
    db_path: Path
    media: Path
    data: Path


@pytest.fixture
def lib(tmp_path: Path) -> Lib:
    data = tmp_path / "data"
    data.mkdir()
    media = data / "media"
    media.mkdir()
    db_path = data / "library.db"
    database = dbmod.connect(db_path)
    yield Lib(database, db_path, media, data)
    database.close()


@pytest.fixture
def mary(lib: Lib) -> library.Resident:
    return library.add_resident(lib.db, "Mary", birth_year=1938)


@pytest.fixture
def open_tmp() -> Path:
    """A temporary folder other users can pass through (pytest's own are private to root),
    for tests where work runs as another user."""
    folder = Path(tempfile.mkdtemp(prefix="evergreen-test-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
