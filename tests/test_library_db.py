"""The database: opened one way, migrated in place, safe with two processes writing."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlite_utils

from content import db as dbmod
from content import library
from content.migrations import registry
from content.timestamps import utc_iso

ROOT = Path(__file__).resolve().parent.parent


def test_connection_settings(lib):
    conn = lib.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_foreign_keys_are_enforced(lib):
    with pytest.raises(Exception, match="FOREIGN KEY"):
        with dbmod.write(lib.db):
            lib.db.execute("INSERT INTO resident_songs (resident_id, song_id) VALUES (999, 999)")


def test_failed_write_leaves_nothing(lib):
    with pytest.raises(RuntimeError):
        with dbmod.write(lib.db):
            library.add_resident(lib.db, "Arthur")
            raise RuntimeError("power cut")
    assert library.find_resident(lib.db, "Arthur") is None


def test_write_takes_the_write_lock_at_begin(lib):
    """A second connection cannot write while a write() is open (BEGIN IMMEDIATE)."""
    other = sqlite_utils.Database(__import__("sqlite3").connect(str(lib.db_path), timeout=0.1))
    with dbmod.write(lib.db):
        with pytest.raises(Exception, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.close()


def test_an_old_database_is_migrated_in_place(tmp_path):
    MIGRATIONS = registry()
    names = [m.name for m in MIGRATIONS._migrations]
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    if len(names) > 1:
        MIGRATIONS.apply(old, stop_before=names[1])      # a library as an older release left it
    else:
        MIGRATIONS.apply(old)
    old.execute("INSERT INTO residents (name, birth_year) VALUES ('Edith', 1931)")
    old.conn.commit()
    old.close()

    upgraded = dbmod.connect(path)
    assert MIGRATIONS.pending(upgraded) == []
    assert [m.name for m in MIGRATIONS.applied(upgraded)] == names
    assert library.resident_by_name(upgraded, "edith").birth_year == 1931
    upgraded.close()


def test_a_file_that_is_not_a_database_is_a_plain_error(tmp_path):
    bad = tmp_path / "library.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(dbmod.LibraryError, match="cannot be opened"):
        dbmod.connect(bad)


WRITER = textwrap.dedent(
    """
    import sys
    from content import db, library
    from content.timestamps import utc_iso
    d = db.connect(sys.argv[1])
    who = sys.argv[2]
    for i in range(150):
        with db.write(d):
            n = d.execute("SELECT COUNT(*) FROM plays").fetchone()[0]
            d.execute("INSERT INTO plays (resident_id, started_at, ended_how) VALUES (1, ?, ?)",
                      [utc_iso(), f"{who}-{i}-{n}"])
        library.set_setting(d, f"last-{who}", i)
    print("done")
    """
)


def test_two_processes_writing_at_once_get_no_lock_errors(lib, mary):
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(lib.db_path), who], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for who in ("kiosk", "admin")
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
        assert "locked" not in err
        assert out.strip() == "done"
    counts = dict(lib.db.execute("SELECT substr(ended_how, 1, 5), COUNT(*) FROM plays GROUP BY 1").fetchall())
    assert counts == {"kiosk": 150, "admin": 150}
    assert library.get_setting(lib.db, "last-kiosk") == 149
