"""Hostile backups and links: restore writes nothing it has not checked, and says why in one
plain sentence."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from content import backup as backupmod
from content import db as dbmod
from content import ingest, library, media
from tests.audio import write_song
from tests.backupkit import REPO, dump, files, fill, tamper


def _rebuild(src: Path, dst: Path, *, extra: list[tuple[tarfile.TarInfo, bytes]] = (), manifest_first: bool = False,
             edit_manifest=None) -> None:
    """Rewrite a good backup with extra members and an edited manifest."""
    with tarfile.open(src) as tin:
        members = [(m, tin.extractfile(m).read()) for m in tin]
    body = [(m, d) for m, d in members if m.name != backupmod.MANIFEST]
    manifest = json.loads(next(d for m, d in members if m.name == backupmod.MANIFEST))
    for info, data in extra:
        if not info.pax_headers.get("GNU.sparse.name"):
            manifest["files"].append({"name": info.name, "size": info.size, "sha256": hashlib.sha256(data or b"").hexdigest()})
    if edit_manifest is not None:
        manifest = edit_manifest(manifest)
    raw = json.dumps(manifest).encode()
    m_info = tarfile.TarInfo(backupmod.MANIFEST)
    m_info.size = len(raw)
    ordered = [(m_info, raw)] + body + list(extra) if manifest_first else body + list(extra) + [(m_info, raw)]
    with open(dst, "wb") as fh:   # written by hand, so a member's data can be a hole
        for info, data in ordered:
            fh.write(info.tobuf(tarfile.PAX_FORMAT))
            if data is None and info.size:
                fh.seek(-(-info.size // 512) * 512, os.SEEK_CUR)   # a sparse file: no disk used
            elif data:
                fh.write(data + b"\0" * (-len(data) % 512))
        fh.write(b"\0" * 1024)


def _member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


FAKE = backupmod.MEDIA_PREFIX + "ab" * 32 + ".mp3"


def _limited(max_file_bytes: int):
    """For a child process: no file it writes may grow past this (EFBIG instead of SIGXFSZ)."""
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
    return limit


def restore_cli(backup: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    """The real `restore --force`, in a child that may not write any file over 16 MB."""
    env = {**os.environ, "EVERGREEN_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "content", "restore", "--force", *extra, str(backup)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300, preexec_fn=_limited(16 * 2**20))


@pytest.fixture
def good(lib, tmp_path) -> Path:
    fill(lib, tmp_path)
    out = tmp_path / "good.tar"
    backupmod.backup(lib.db_path, lib.media, out)
    lib.db.close()
    yield out
    lib.db = dbmod.connect(lib.db_path)


def _refused_and_untouched(done, lib, before, media_before, message: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert re.search(message, lines[0]), lines[0]
    assert dump(lib.db_path) == before and files(lib.media) == media_before
    assert media.scratch_files(lib.media) == [] and not list(lib.data.glob(".restore-*"))


def test_restore_never_follows_a_linked_media_folder_out_of_the_library(lib, good, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    precious = {"cd" * 32 + ".mp3": b"not the library's", "notes.txt": b"someone's notes"}
    for name, data in precious.items():
        (elsewhere / name).write_bytes(data)
    real_media = lib.media.rename(lib.data / "media-real")
    lib.media.symlink_to(elsewhere)
    done = restore_cli(good, lib.data)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "is a link to somewhere else" in done.stderr
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == precious
    lib.media.unlink()
    real_media.rename(lib.media)


def test_restore_removes_only_the_old_librarys_plain_media_files(lib, good, tmp_path):
    outside = tmp_path / "outside.mp3"
    outside.write_bytes(b"outside")
    (lib.media / ("ef" * 32 + ".mp3")).symlink_to(outside)      # a link with a media name
    (lib.media / "README.txt").write_text("a person's file")    # not a media name
    (lib.media / ("12" * 32 + ".mp3")).write_bytes(b"old song")  # the old library's own
    done = restore_cli(good, lib.data)
    assert done.returncode == 0, done.stderr
    assert outside.read_bytes() == b"outside" and (lib.media / "README.txt").exists()
    assert not (lib.media / ("12" * 32 + ".mp3")).exists()


def _sparse_member(name: str, real_size: int) -> tuple[tarfile.TarInfo, bytes]:
    """A GNU sparse member (PAX 1.0): a few bytes in the archive that unpack to `real_size`."""
    info = tarfile.TarInfo(f"{name}.sparse")
    info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": name,
                        "GNU.sparse.realsize": str(real_size)}
    sparse_map = b"1\n0\n1\n".ljust(512, b"\0")
    data = sparse_map + b"x"
    info.size = len(data)
    return info, data


@pytest.mark.parametrize("hostile, message", [
    ("sparse", "other than a plain file"),
    ("gzip bomb", "is compressed"),
    ("more than the disk holds", "not enough free space for this backup: it needs"),
    ("size unlike the manifest", "not the size its manifest says"),
    ("a name that is not a hash", "unsafe name"),
    ("a folder", "other than a plain file"),
    ("a link", "other than a plain file"),
])
def test_a_hostile_backup_is_refused_before_anything_is_written(lib, good, tmp_path, hostile, message):
    before, media_before = dump(lib.db_path), files(lib.media)
    bad = tmp_path / "bad.tar"
    if hostile == "sparse":
        _rebuild(good, bad, extra=[_sparse_member(FAKE, 2 * 2**30)],
                 edit_manifest=lambda m: {**m, "files": m["files"] + [{"name": FAKE, "size": 2 * 2**30,
                                                                       "sha256": "00" * 32}]})
    elif hostile == "gzip bomb":
        import gzip
        zeros = 256 * 2**20
        plain = tmp_path / "bomb.tar"
        with tarfile.open(plain, "w") as t:
            info = tarfile.TarInfo(FAKE)
            info.size = zeros
            t.addfile(info, io.BufferedReader(io.BytesIO(bytes(zeros))))
        with open(plain, "rb") as src, gzip.open(bad, "wb", compresslevel=1) as dst:
            shutil.copyfileobj(src, dst, 2**20)
        plain.unlink()
        assert bad.stat().st_size < 2 * 2**20
    elif hostile == "more than the disk holds":
        # The manifest and the member agree on 4 TB, in a sparse file that uses a few KB.
        info = tarfile.TarInfo(FAKE)
        info.size = 4 * 2**40
        _rebuild(good, bad, manifest_first=True, extra=[(info, None)],
                 edit_manifest=lambda m: {**m, "files": [({**e, "sha256": "00" * 32} if e["name"] == FAKE else e)
                                                         for e in m["files"]]})
        assert bad.stat().st_blocks * 512 < 2**20
    elif hostile == "size unlike the manifest":
        _rebuild(good, bad, extra=[_member(FAKE, b"\0" * 40_000_000)],
                 edit_manifest=lambda m: {**m, "files": [({**e, "size": 4} if e["name"] == FAKE else e)
                                                         for e in m["files"]]})
    elif hostile == "a name that is not a hash":
        _rebuild(good, bad, extra=[_member(backupmod.MEDIA_PREFIX + "notes.txt", b"hello")])
    elif hostile == "a folder":
        info = tarfile.TarInfo(FAKE)
        info.type = tarfile.DIRTYPE
        _rebuild(good, bad, extra=[(info, None)])
    else:
        info = tarfile.TarInfo(FAKE)
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        _rebuild(good, bad, extra=[(info, None)])
    done = restore_cli(bad, lib.data)
    _refused_and_untouched(done, lib, before, media_before, message)


@pytest.mark.parametrize("manifest", [
    b"[1, 2, 3]",
    b'{"format": "evergreen-backup", "version": "one"}',
    b'{"format": "evergreen-backup", "version": 1, "files": {"a": 1}}',
    b'{"format": "evergreen-backup", "version": 1, "files": [42]}',
    b'{"format": "evergreen-backup", "version": 1, "files": [{"name": "evergreen-backup/library.db", "size": "9"}]}',
    b'{"format": "evergreen-backup", "version": 1, "files": [{"name": 7, "size": 1, "sha256": "x"}]}',
    b'{"format": "evergreen-backup", "version": 1, "files": [], "missing": "all"}',
    b'{"format": "evergreen-backup", "version": 1, "files": [], "missing": [{"x": 1}]}',
    b'{"format": "evergreen-backup", "version": 1, "files": []}',
    b"\xff\xfe not json",
])
def test_a_malformed_manifest_gets_one_plain_sentence_and_a_failing_exit(lib, good, tmp_path, manifest):
    before, media_before = dump(lib.db_path), files(lib.media)
    bad = tmp_path / "bad.tar"
    tamper(good, bad, lambda n, d: manifest if n == backupmod.MANIFEST else d)
    done = restore_cli(bad, lib.data)
    _refused_and_untouched(done, lib, before, media_before, r"manifest|not an Evergreen backup|no database")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs; as any other user the "
                    "10 TB backup above shows the free-space check is made before anything is written")
def test_a_backup_bigger_than_the_free_space_is_refused_before_filling_the_disk(lib, tmp_path):
    """A real backup, a little bigger than the room left on the library's (small, real) disk."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)], check=True)
    try:
        src = tmp_path / "src"
        result = ingest.ingest_file(lib.db, lib.media, write_song(src / "long.wav", 440, 150), min_seconds=1)
        assert result.status == "added", result.reason
        library.link_song(lib.db, library.add_resident(lib.db, "Mary").id, result.song_id)
        big = tmp_path / "big.tar"
        backupmod.backup(lib.db_path, lib.media, big)
        assert big.stat().st_size > 12 * 2**20
        small = disk / "pi"
        old = dbmod.connect(small / "library.db")
        library.add_resident(old, "Betty")
        old.close()
        (small / "media").mkdir()
        (disk / "filler").write_bytes(b"\0" * (12 * 2**20))
        used = os.statvfs(disk)
        before = dump(small / "library.db")
        done = restore_cli(big, small)
        assert done.returncode == 2 and "not enough free space for this backup: it needs" in done.stderr
        assert "Traceback" not in done.stderr and dump(small / "library.db") == before
        assert os.statvfs(disk).f_bavail == used.f_bavail   # nothing left behind either
    finally:
        subprocess.run(["umount", str(disk)], check=True)
