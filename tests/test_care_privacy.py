"""A resident's everything out as one ZIP, and a resident deleted without a trace: not in any
table, not in the database files' bytes, not in the media folder; and no one else's songs lost."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from content import accounts, ingest, library, privacy
from content.care import reactions
from content.db import LibraryError
from content.photos import set_photo
from tests.carekit import add_play, at
from tests.test_web_curation import PNG
from tests.test_web_fixtures import song_file

ROOT = Path(__file__).resolve().parent.parent
NAME = "Philomena Quarterbridge"
SECRET_NOTE = "Zanzibar lullaby grandmother"


def real_song(lib, resident_id, name, freq):
    path = song_file(lib.data, f"{name}.wav", freq, title=name, artist="Band")
    result = ingest.ingest_file(lib.db, lib.media, path, resident_id=resident_id, min_seconds=1.0)
    path.unlink()
    assert result.status in ("added", "duplicate"), result.reason
    return result.song_id


@pytest.fixture
def two(lib):
    """Philomena with a song of her own, a song she shares with Bob, a photo, history,
    reactions with notes, and a daughter's account; Bob with his own song and the shared one."""
    db = lib.db
    phil = library.add_resident(db, NAME, birth_year=1936)
    bob = library.add_resident(db, "Bob", birth_year=1931)
    own = real_song(lib, phil.id, "Quarterbridge waltz", 440)
    shared = real_song(lib, phil.id, "Shared song", 550)
    library.link_song(db, bob.id, shared)
    bobs = real_song(lib, bob.id, "Bob's own", 660)
    library.set_song_flags(db, phil.id, own, note="Her wedding song, " + SECRET_NOTE)
    set_photo(db, lib.media, phil.id, io.BytesIO(PNG))
    play = add_play(db, phil.id, own, at(1, 10))
    reactions.record(db, phil.id, "sang_along", play_id=play, note=SECRET_NOTE, by_role="family")
    add_play(db, bob.id, shared, at(1, 11))
    daughter = accounts.create_user(db, "daughter@quarterbridge.example", "family-password-1", "family",
                                    resident_ids=[phil.id])
    cousin = accounts.create_user(db, "cousin@family.example", "family-password-1", "family",
                                  resident_ids=[phil.id, bob.id])
    return {"phil": phil, "bob": bob, "own": own, "shared": shared, "bobs": bobs, "daughter": daughter,
            "cousin": cousin}


def test_the_export_holds_everything_about_the_resident(lib, two, tmp_path):
    target = privacy.export_resident(lib.db, lib.media, two["phil"].id, tmp_path / "phil.zip")
    with zipfile.ZipFile(target) as z:
        names = set(z.namelist())
        data = json.loads(z.read("resident.json"))
        assert z.read("report.pdf").startswith(b"%PDF")
        assert "sang_along" in z.read("reactions.csv").decode()
    assert data["resident"]["name"] == NAME
    assert {s["title"] for s in data["songs"]} == {"Quarterbridge waltz", "Shared song"}
    assert any(SECRET_NOTE in s["note"] for s in data["songs"])
    assert [r["reaction"] for r in data["reactions"]] == ["sang_along"]
    assert len(data["plays"]) == 1
    assert {f["email"] for f in data["family"]} == {"daughter@quarterbridge.example", "cousin@family.example"}
    song_files = {f"media/{s['sha256']}.{s['ext']}" for s in data["songs"]}
    assert song_files | {"resident.json", "report.pdf", "report-days.csv", "reactions.csv",
                         f"photo/{two['phil'].photo or library.get_resident(lib.db, two['phil'].id).photo}"} == names
    assert not any("Bob's own" in json.dumps(s) for s in data["songs"])
    assert not list(tmp_path.glob(".*.part"))


def _everything(lib) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(lib.db_path) + suffix)
        if p.exists():
            data += p.read_bytes()
    return data


def test_deleting_leaves_no_trace_and_keeps_other_residents_songs(lib, two):
    db = lib.db
    phil = library.get_resident(db, two["phil"].id)
    own_file = lib.media / "{0}.{1}".format(*db.execute("SELECT sha256, ext FROM songs WHERE id = ?",
                                                          [two["own"]]).fetchone())
    shared_file = lib.media / "{0}.{1}".format(*db.execute("SELECT sha256, ext FROM songs WHERE id = ?",
                                                             [two["shared"]]).fetchone())
    assert own_file.exists() and (lib.media / phil.photo).exists()
    assert NAME.encode() in _everything(lib)
    with pytest.raises(LibraryError):
        privacy.delete_resident(db, lib.media, phil.id, confirm_name="Philomena")
    assert library.find_resident(db, NAME) is not None

    done = privacy.delete_resident(db, lib.media, phil.id, confirm_name=" philomena  quarterbridge ")
    assert (done.songs_removed, done.songs_kept, done.plays, done.reactions, done.accounts_removed) == (1, 1, 1, 1, 1)
    assert library.find_resident(db, NAME) is None
    for table, where in (("resident_songs", "resident_id = ?"), ("plays", "resident_id = ?"),
                         ("reactions", "resident_id = ?"), ("user_residents", "resident_id = ?"),
                         ("audit_log", "resident_id = ?")):
        assert db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", [phil.id]).fetchone()[0] == 0, table
    assert accounts.find_user(db, "daughter@quarterbridge.example") is None
    assert accounts.find_user(db, "cousin@family.example") is not None      # still Bob's family
    assert not own_file.exists() and not (lib.media / phil.photo).exists()
    assert shared_file.exists()
    assert {s.title for s in library.resident_songs(db, two["bob"].id)} == {"Shared song", "Bob's own"}
    assert db.execute("SELECT COUNT(*) FROM plays WHERE resident_id = ?", [two["bob"].id]).fetchone()[0] == 1
    # The audit log keeps only that a deletion happened.
    [entry] = db.execute("SELECT resident_id, song_id, detail FROM audit_log WHERE action = 'resident.delete'").fetchall()
    assert tuple(entry) == (None, None, "{}")
    # Nothing readable is left in the database files.
    raw = _everything(lib)
    for word in (NAME, "Quarterbridge", SECRET_NOTE, "quarterbridge.example"):
        assert word.encode() not in raw, word


def test_the_delete_command_asks_for_the_name_again(lib, two):
    cmd = [sys.executable, "-m", "content", "residents", "delete", NAME, "--db", str(lib.db_path)]
    wrong = subprocess.run(cmd, input="Bob\n", cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "does not match" in wrong.stderr
    assert library.find_resident(lib.db, NAME) is not None
    right = subprocess.run(cmd, input=NAME + "\n", cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert right.returncode == 0, right.stderr
    assert "Type Philomena Quarterbridge's name again" in right.stdout and "Deleted" in right.stdout
    assert library.find_resident(lib.db, NAME) is None


def test_the_export_command_writes_the_zip(lib, two, tmp_path):
    out = subprocess.run([sys.executable, "-m", "content", "export", "--resident", NAME, "--to",
                          str(tmp_path / "p.zip"), "--db", str(lib.db_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, env=dict(os.environ, TZ="UTC"))
    assert out.returncode == 0, out.stderr
    with zipfile.ZipFile(tmp_path / "p.zip") as z:
        assert "resident.json" in z.namelist()
