"""Backup → restore gives back the same library, files and history; bad backups change nothing."""
from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

from content import backup as backupmod
from content import restore as restoremod
from content import db as dbmod
from content import integrity, library, media
from content.db import LibraryError
from content.timestamps import utc_iso
from tests.audio import write_song
from tests.backupkit import REPO, add_song, dump, files, fill, nobody, run_cli, tamper


def test_backup_then_restore_gives_the_same_library_files_and_history(lib, tmp_path):
    fill(lib, tmp_path)
    before, media_before = dump(lib.db_path), files(lib.media)
    out = tmp_path / "usb" / "evergreen.tar"
    out.parent.mkdir()
    result = backupmod.backup(lib.db_path, lib.media, out)
    assert result.files == 3 and not result.missing
    assert [p.name for p in out.parent.iterdir()] == ["evergreen.tar"]  # no partial files left beside it

    new = tmp_path / "new-pi"
    restored = restoremod.restore(out, new / "library.db", new / "media", in_use=nobody)
    assert (restored.residents, restored.songs, restored.plays) == (2, 3, 5)
    assert dump(new / "library.db") == before
    assert files(new / "media") == media_before
    assert not list(new.glob(".restore-*"))
    # The restored library opens normally and reads the same as the original.
    db2 = dbmod.connect(new / "library.db")
    try:
        tom = library.resident_by_name(db2, "Tom")
        songs = {s.title: s for s in library.resident_songs(db2, tom.id)}
        assert songs["Jerusalem"].never_play and not songs["Que sera"].never_play
        mary = library.resident_by_name(db2, "Mary")
        assert [s.note for s in library.resident_songs(db2, mary.id) if s.favourite] == ["Their wedding dance"]
        assert library.get_setting(db2, "volume_cap") == 60
    finally:
        db2.close()


def test_backup_is_consistent_while_the_library_is_being_written(lib, tmp_path):
    """The kiosk keeps logging plays while staff back up: each backup overlaps real
    commits, and each restores to one consistent moment between its start and its end."""
    fill(lib, tmp_path)
    base = lib.db.execute("SELECT COUNT(*) FROM plays").fetchone()[0]
    stop, first_commit = threading.Event(), threading.Event()
    writer_db = dbmod.connect(lib.db_path)
    committed = [0]  # only the writer changes it

    def keep_playing():
        mary = library.resident_by_name(writer_db, "Mary")
        while not stop.is_set():
            with dbmod.write(writer_db):
                writer_db["plays"].insert({"resident_id": mary.id, "started_at": utc_iso(), "ended_how": "next"})
            committed[0] += 1
            first_commit.set()

    t = threading.Thread(target=keep_playing)
    t.start()
    spans = []
    try:
        assert first_commit.wait(30), "the writer never committed"
        for i in range(3):
            before = committed[0]

            def stamp_once_the_writer_has_moved_on() -> str:
                # Called as the backup starts: on a loaded machine a quick backup could
                # otherwise begin and end between two of the writer's commits.
                deadline = time.monotonic() + 30
                while committed[0] == before and time.monotonic() < deadline:
                    time.sleep(0.001)
                return utc_iso()

            result = backupmod.backup(lib.db_path, lib.media, tmp_path / f"b{i}.tar",
                                      now=stamp_once_the_writer_has_moved_on)
            spans.append((result, before, committed[0]))
    finally:
        stop.set()
        t.join()
        writer_db.close()
    for i, (result, before, after) in enumerate(spans):
        assert after > before, f"backup {i} ran while no play was written"
        target = tmp_path / f"restore{i}"
        restoremod.restore(result.path, target / "library.db", target / "media", in_use=nobody)
        conn = sqlite3.connect(str(target / "library.db"))
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            plays = conn.execute("SELECT COUNT(*) FROM plays").fetchone()[0]
        finally:
            conn.close()
        # Every play committed before the backup began is in it; none from after it ended
        # (one more at most: committed, not yet counted).
        assert base + before <= plays <= base + after + 1, (i, base, before, plays, after)


def test_restore_refuses_a_library_with_content_unless_forced(lib, tmp_path):
    fill(lib, tmp_path)
    out = tmp_path / "full.tar"
    backupmod.backup(lib.db_path, lib.media, out)

    other = tmp_path / "other"
    other_db = dbmod.connect(other / "library.db")
    library.add_resident(other_db, "Betty", birth_year=1930)
    (other / "media").mkdir()
    add_song(other_db, other / "media", write_song(tmp_path / "src" / "old.ogg", 300, 3), "Old song", "Band", 1950)
    other_db.close()
    before = dump(other / "library.db")
    media_before = files(other / "media")

    with pytest.raises(LibraryError, match="--force"):
        restoremod.restore(out, other / "library.db", other / "media", in_use=nobody)
    assert dump(other / "library.db") == before and files(other / "media") == media_before

    result = restoremod.restore(out, other / "library.db", other / "media", force=True, in_use=nobody)
    assert result.replaced and result.removed_files == 1  # the old library's only song
    assert dump(other / "library.db") == dump(lib.db_path)
    assert files(other / "media") == files(lib.media)
    reopened = dbmod.connect(other / "library.db")
    assert [r.name for r in library.list_residents(reopened)] == ["Mary", "Tom"]  # Betty's library is gone
    reopened.close()


@pytest.mark.parametrize("damage, message", [
    ("flip", "does not match its checksum"),
    ("drop", "incomplete"),
    ("truncate", "damaged or cut short|incomplete|not an Evergreen backup"),
    ("traversal", "unsafe name|does not list"),
    ("random", "not an Evergreen backup"),
])
def test_a_damaged_backup_is_refused_and_changes_nothing(lib, tmp_path, damage, message):
    fill(lib, tmp_path)
    good = tmp_path / "good.tar"
    backupmod.backup(lib.db_path, lib.media, good)
    bad = tmp_path / "bad.tar"
    media_member = next(n for n in tarfile.open(good).getnames() if n.startswith(backupmod.MEDIA_PREFIX))
    if damage == "flip":
        tamper(good, bad, lambda n, d: (d[:100] + bytes([d[100] ^ 0xFF]) + d[101:]) if n == media_member else d)
    elif damage == "drop":
        tamper(good, bad, lambda n, d: None if n == media_member else d)
    elif damage == "truncate":
        raw = good.read_bytes()
        bad.write_bytes(raw[: len(raw) // 2])
    elif damage == "traversal":
        def evil(n, d):
            if n == backupmod.MANIFEST:
                m = json.loads(d)
                m["files"].append({"name": backupmod.MEDIA_PREFIX + "../../escape", "size": 4, "sha256": hashlib.sha256(b"evil").hexdigest()})
                return json.dumps(m).encode()
            return d
        tamper(good, bad, evil)
        with tarfile.open(bad, "a") as t:
            info = tarfile.TarInfo(backupmod.MEDIA_PREFIX + "../../escape")
            info.size = 4
            t.addfile(info, io.BytesIO(b"evil"))
    else:
        bad.write_bytes(os.urandom(20000))

    # Restore onto a library that already exists, with --force: still nothing may change.
    target = lib.data
    before, media_before = dump(lib.db_path), files(lib.media)
    lib.db.close()
    with pytest.raises(LibraryError, match=message):
        restoremod.restore(bad, lib.db_path, lib.media, force=True, in_use=nobody)
    assert dump(lib.db_path) == before
    assert files(lib.media) == media_before
    assert not list(target.glob(".restore-*"))
    assert media.scratch_files(lib.media) == []  # no unpacked file left behind
    assert not (tmp_path / "escape").exists()
    lib.db = dbmod.connect(lib.db_path)


def test_restore_refuses_while_evergreen_has_the_library_open(lib, tmp_path):
    fill(lib, tmp_path)
    out = tmp_path / "b.tar"
    backupmod.backup(lib.db_path, lib.media, out)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('select 1 from residents').fetchall(); "
         "print('open', flush=True); sys.stdin.read()", str(lib.db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(LibraryError, match=rf"in use by pid {holder.pid}.*systemctl stop"):
            restoremod.restore(out, lib.db_path, lib.media, force=True)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


def test_the_command_line_backs_up_and_restores_in_plain_words(lib, tmp_path):
    fill(lib, tmp_path)
    lib.db.close()
    out = tmp_path / "evergreen.tar"
    done = run_cli("backup", "--to", str(out), data=lib.data)
    assert done.returncode == 0, done.stderr
    assert "3 media files" in done.stdout and str(out) in done.stdout

    again = run_cli("restore", str(out), data=lib.data)
    assert again.returncode == 2
    assert again.stderr.startswith("Error: ") and "--force" in again.stderr and "Traceback" not in again.stderr

    fresh = tmp_path / "fresh"
    done = run_cli("restore", str(out), data=fresh)
    assert done.returncode == 0, done.stderr
    assert "Restored 2 residents, 3 songs and 5 plays" in done.stdout
    assert dump(fresh / "library.db") == dump(lib.db_path)

    missing = run_cli("restore", str(tmp_path / "nope.tar"), data=tmp_path / "x")
    assert missing.returncode == 2 and "There is no backup file" in missing.stderr
    inside = run_cli("backup", "--to", str(lib.data / "b.tar"), data=lib.data)
    assert inside.returncode == 2 and "outside the library" in inside.stderr
    lib.db = dbmod.connect(lib.db_path)


def test_the_backup_file_is_private(lib, tmp_path):
    fill(lib, tmp_path)
    out = tmp_path / "b.tar"
    backupmod.backup(lib.db_path, lib.media, out)
    assert out.stat().st_mode & 0o077 == 0  # password hashes and families' notes inside


NOT_ROOT = "needs root, to run the library work as another user; as any other user the same code runs in-process"


def _owners(paths) -> set[tuple[int, int]]:
    return {(p.stat().st_uid, p.stat().st_gid) for p in paths}


@pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)
def test_run_as_root_the_library_work_is_done_as_the_data_folders_owner(lib, tmp_path, open_tmp):
    """On the appliance backup and restore run with sudo; the services run as their own user
    and could not open a database owned by root. Root only opens the backup file (here in a
    folder only root may write, like a USB stick); everything in the library is created by
    its owner, so nothing needs a chown."""
    fill(lib, tmp_path)
    stick = tmp_path / "stick"
    stick.mkdir(mode=0o700)
    out = stick / "b.tar"
    backupmod.backup(lib.db_path, lib.media, out)
    service_uid = service_gid = 65534  # nobody/nogroup, standing in for the service user
    new = open_tmp / "pi"
    new.mkdir()
    os.chown(new, service_uid, service_gid)
    restoremod.restore(out, new / "library.db", new / "media", in_use=nobody)
    owned = [new / "library.db", *(new / "media").rglob("*"), new / "media"]
    assert _owners(owned) == {(service_uid, service_gid)}
    # A backup run as root opens the (WAL) database, which leaves -wal/-shm files behind:
    # they are made by the owner too.
    dbmod.connect(new / "library.db").close()
    for side in new.glob("library.db-*"):
        side.unlink()
    again = stick / "again.tar"
    backupmod.backup(new / "library.db", new / "media", again)
    assert _owners([again]) == {(0, 0)} and again.stat().st_mode & 0o077 == 0
    sidecars = list(new.glob("library.db-*"))
    assert sidecars and _owners(sidecars) == {(service_uid, service_gid)}
    assert dump(new / "library.db") == dump(lib.db_path)


@pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)
@pytest.mark.parametrize("side", ["-wal", "-shm"])
def test_backup_as_root_never_changes_the_owner_of_what_a_link_beside_the_database_points_at(
        lib, tmp_path, open_tmp, side):
    """A -wal or -shm link planted by the service user (say, to a file of root's) is refused,
    not followed, and the file it points at keeps its owner and its bytes."""
    fill(lib, tmp_path)
    lib.db.close()
    data = open_tmp / "pi"
    shutil.copytree(lib.data, data)
    for p in [data, *data.rglob("*")]:
        os.chown(p, 65534, 65534)
    for old in data.glob("library.db-*"):
        old.unlink()
    victim = open_tmp / "roots-file"
    victim.write_bytes(b"root's own\n")
    Path(f"{data / 'library.db'}{side}").symlink_to(victim)
    done = run_cli("backup", "--to", str(tmp_path / "b.tar"), data=data)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "is a link to somewhere else" in done.stderr
    assert (victim.stat().st_uid, victim.stat().st_gid) == (0, 0)
    assert victim.read_bytes() == b"root's own\n"
    assert not (tmp_path / "b.tar").exists()
    lib.db = dbmod.connect(lib.db_path)


def test_a_restore_cut_off_at_any_moment_leaves_the_old_or_the_new_library_whole(lib, tmp_path):
    """SIGKILL a real `restore --force` at random moments: afterwards the library is exactly
    the old one or exactly the new one, and the startup check finds nothing it cannot tidy."""
    fill(lib, tmp_path)
    new_backup = tmp_path / "new.tar"
    backupmod.backup(lib.db_path, lib.media, new_backup)
    new_state = dump(lib.db_path)
    lib.db.close()

    data = tmp_path / "pi"
    old_db = dbmod.connect(data / "library.db")
    library.add_resident(old_db, "Betty", birth_year=1930)
    add_song(old_db, data / "media", write_song(tmp_path / "src" / "old.ogg", 300, 3), "Old song", "Band", 1950)
    old_db.close()
    old_state = dump(data / "library.db")
    old_copy = tmp_path / "old.tar"
    backupmod.backup(data / "library.db", data / "media", old_copy)

    rng = random.Random(7)
    env = {**os.environ, "EVERGREEN_DATA": str(data)}
    argv = [sys.executable, "-m", "content", "restore", "--force", str(new_backup)]
    # How long a whole restore takes here, so that the cuts spread over all of it.
    started = time.monotonic()
    subprocess.run(argv, cwd=REPO, env=env, capture_output=True, check=True, timeout=120)
    whole = time.monotonic() - started
    assert dump(data / "library.db") == new_state
    restoremod.restore(old_copy, data / "library.db", data / "media", force=True, in_use=nobody)

    outcomes = []
    cuts = 0
    while cuts < 12 or not ({"old", "new"} <= set(outcomes)):
        assert cuts < 60, f"60 cuts and still only {set(outcomes)}"
        cuts += 1
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=rng.uniform(0.0, whole * 1.2))  # the moment of the cut
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        db = dbmod.connect(data / "library.db")
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            integrity.check(db, data / "media", repair=True)  # what the admin runs as it starts
            assert integrity.check(db, data / "media").ok
        finally:
            db.close()
        state = dump(data / "library.db")
        assert state in (old_state, new_state)
        outcomes.append("new" if state == new_state else "old")
        if state == new_state:  # start again from the old library
            restoremod.restore(old_copy, data / "library.db", data / "media", force=True, in_use=nobody)
    lib.db = dbmod.connect(lib.db_path)


def test_a_library_that_had_lost_a_file_still_backs_up_and_restores_with_a_warning(lib, tmp_path):
    fill(lib, tmp_path)
    lost = sorted(lib.media.glob("*.flac"))[0]
    lost.unlink()
    out = tmp_path / "b.tar"
    result = backupmod.backup(lib.db_path, lib.media, out)
    assert result.missing == [lost.name] and result.files == 2
    new = tmp_path / "new"
    restored = restoremod.restore(out, new / "library.db", new / "media", in_use=nobody)
    assert restored.missing == [lost.name] and restored.songs == 3
    db = dbmod.connect(new / "library.db")
    try:
        report = integrity.check(db, new / "media")
        assert len(report.missing_files) == 1 and not report.orphan_files  # the check names the song
    finally:
        db.close()
