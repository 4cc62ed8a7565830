"""Ingest: every way a song can arrive, good and bad. Real audio, real libvlc, real files."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from content import db as dbmod
from content import library, media
from content.ingest import ingest_file
from content.probe import Prober
from tests.audio import write_song

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def prober():
    with Prober() as p:
        yield p


def song_rows(lib):
    return list(lib.db.query("SELECT * FROM songs"))


def stored(lib) -> list[str]:
    return sorted(p.name for p in media.stored_files(lib.media))


def assert_nothing_left(lib):
    assert song_rows(lib) == []
    assert stored(lib) == []
    assert media.scratch_files(lib.media) == []
    assert list(lib.db.query("SELECT * FROM resident_songs")) == []


@pytest.mark.parametrize("ext", [".mp3", ".ogg", ".flac", ".wav"])
def test_each_format_is_added_with_its_tags(lib, mary, prober, tmp_path, ext):
    src = write_song(tmp_path / f"song{ext}", 523.0, 12,
                     tags={"title": "We'll Meet Again", "artist": "Vera Lynn", "album": "Hits", "date": "1942-01-01"})
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    assert result.status == "added", result.reason
    (row,) = song_rows(lib)
    assert (row["title"], row["artist"], row["album"], row["tag_year"]) == ("We'll Meet Again", "Vera Lynn", "Hits", 1942)
    assert row["format"] == ext[1:]
    assert 11.5 < row["duration"] < 12.5
    assert stored(lib) == [f"{row['sha256']}.{ext[1:]}"]
    assert (lib.media / f"{row['sha256']}.{ext[1:]}").read_bytes() == src.read_bytes()
    songs = library.resident_songs(lib.db, mary.id)
    assert [s.title for s in songs] == ["We'll Meet Again"]
    assert media.scratch_files(lib.media) == []


def test_messy_filename_fills_missing_tags(lib, mary, prober, tmp_path):
    src = write_song(tmp_path / "x.mp3", 440, 11)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober,
                         original_name="03 - Vera Lynn - We'll Meet Again (Remastered 2005).mp3")
    assert result.status == "added"
    (row,) = song_rows(lib)
    assert (row["artist"], row["title"]) == ("Vera Lynn", "We'll Meet Again")
    assert row["tag_year"] is None  # "Remastered 2005" is not the song's year


def test_tags_win_over_the_filename(lib, mary, prober, tmp_path):
    src = write_song(tmp_path / "01 - Someone - Wrong Title.ogg", 440, 11, tags={"title": "Moon River"})
    ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    (row,) = song_rows(lib)
    assert (row["title"], row["artist"]) == ("Moon River", "Someone")


def test_ogg_named_mp3_is_stored_under_its_real_format(lib, mary, prober, tmp_path):
    src = write_song(tmp_path / "really-ogg.mp3", 440, 11, fmt=".ogg")
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    assert result.status == "added"
    (row,) = song_rows(lib)
    assert row["format"] == "ogg" and row["ext"] == "ogg"
    assert stored(lib) == [f"{row['sha256']}.ogg"]


def test_the_same_audio_twice_keeps_one_file(lib, mary, prober, tmp_path):
    src = write_song(tmp_path / "a.flac", 330, 11, tags={"title": "In the Mood"})
    copy = tmp_path / "copy of a.flac"
    shutil.copy(src, copy)
    first = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    again = ingest_file(lib.db, lib.media, copy, resident_id=mary.id, prober=prober)
    assert first.status == "added"
    assert again.status == "duplicate" and again.song_id == first.song_id
    assert "already in the library" in again.line()
    assert len(stored(lib)) == 1 and len(song_rows(lib)) == 1

    john = library.add_resident(lib.db, "John", birth_year=1935)
    shared = ingest_file(lib.db, lib.media, copy, resident_id=john.id, prober=prober)
    assert shared.status == "added" and "Mary" not in shared.line()
    assert len(stored(lib)) == 1
    assert [s.song_id for s in library.resident_songs(lib.db, john.id)] == [first.song_id]


def _truncate(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    out = path.with_name("cut-" + path.name)
    out.write_bytes(data[: int(len(data) * keep)])
    return out


@pytest.mark.parametrize("ext", [".mp3", ".flac", ".wav"])
def test_a_truncated_file_is_refused(lib, mary, prober, tmp_path, ext):
    src = _truncate(write_song(tmp_path / f"long{ext}", 440, 40), 0.4)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    assert result.status == "refused"
    assert "cut short" in result.reason
    assert_nothing_left(lib)


def test_a_header_without_sound_is_refused(lib, mary, prober, tmp_path):
    """A WAV header that claims 40 seconds over a few kilobytes: mutagen believes it."""
    src = _truncate(write_song(tmp_path / "fake.wav", 440, 40), 0.0008)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    assert result.status == "refused"
    assert "No sound could be played" in result.reason
    assert_nothing_left(lib)


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("empty.mp3", b"", "The file is empty."),
        ("notes.mp3", b"Dear Mary, here are the songs you liked.\n" * 50, "This is a text document, not a song."),
        ("random.ogg", os.urandom(20000), "We can't play this kind of file ("),
        ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(5000), "This is a photo, not a song."),
        ("song.mp3", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" * 20,
         "This is a PDF document, not a song."),
    ],
)
def test_what_is_not_audio_is_refused_with_a_reason(lib, mary, prober, tmp_path, name, content, words):
    src = tmp_path / name
    src.write_bytes(content)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    assert result.status == "refused"
    assert words in result.reason
    assert_nothing_left(lib)


def test_too_short_to_be_a_song(lib, mary, prober, tmp_path):
    src = write_song(tmp_path / "jingle.mp3", 440, 3)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    assert result.status == "refused" and "only 3 seconds" in result.reason
    assert_nothing_left(lib)


def test_too_big_is_refused_before_copying(lib, mary, prober, tmp_path):
    src = write_song(tmp_path / "big.wav", 440, 12)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober, max_bytes=100_000)
    assert result.status == "refused" and "too big" in result.reason
    assert_nothing_left(lib)


def test_strange_filenames_never_become_paths(lib, mary, prober, tmp_path):
    src = write_song(tmp_path / "plain.ogg", 440, 11)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober,
                         original_name="../../etc/Édith Piaf – La Vie en rose\x00\n.ogg")
    assert result.status == "added"
    (row,) = song_rows(lib)
    assert (row["artist"], row["title"]) == ("Édith Piaf", "La Vie en rose")
    assert "\x00" not in row["original_name"] and "\n" not in row["original_name"]
    assert stored(lib) == [f"{row['sha256']}.ogg"]
    assert not (tmp_path.parent / "etc").exists()


def test_a_missing_file_is_a_plain_refusal(lib, mary, prober, tmp_path):
    result = ingest_file(lib.db, lib.media, tmp_path / "gone.mp3", resident_id=mary.id, prober=prober)
    assert result.status == "refused" and result.reason == "There is no file or folder there."


@pytest.mark.skipif((os.geteuid() != 0 or not shutil.which("mount")) and not os.environ.get("CI"),
                    reason="needs root to mount a small tmpfs")
def test_a_full_disk_is_reported_and_nothing_is_left(lib, mary, prober, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(small)], capture_output=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to test a full disk: {done.stderr.decode().strip()}")
        pytest.skip(f"cannot mount tmpfs here: {done.stderr.decode().strip()}")
    try:
        src = write_song(tmp_path / "big.wav", 440, 12)          # ~2 MB, the disk holds 256 kB
        result = ingest_file(lib.db, small / "media", src, resident_id=mary.id, prober=prober)
        assert result.status == "refused"
        assert "storage is full" in result.reason
        assert song_rows(lib) == []
        assert media.stored_files(small / "media") == [] and media.scratch_files(small / "media") == []
    finally:
        subprocess.run(["umount", str(small)], check=True)


def _import(lib, folder: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "content", "import", "--resident", "Mary", str(folder),
                             "--db", str(lib.db_path), "--media", str(lib.media)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_power_cut_at_any_moment_of_an_import_leaves_a_consistent_library(lib, mary, tmp_path):
    """SIGKILL a real import at moments spread over its whole run; after the startup check
    every row has its whole file, and nothing else is left."""
    import hashlib
    import time

    from content import integrity

    folder = tmp_path / "stick"
    for i in range(8):
        write_song(folder / f"{i:02d} - Band - Song {i}.wav", 300 + 40 * i, 12)
    t0 = time.monotonic()
    assert _import(lib, folder).wait(120) == 0
    whole_run = time.monotonic() - t0
    assert len(song_rows(lib)) == 8

    for k in range(8):
        with dbmod.write(lib.db):
            lib.db.execute("DELETE FROM resident_songs")
            lib.db.execute("DELETE FROM songs")
        for f in media.stored_files(lib.media):
            f.unlink()
        proc = _import(lib, folder)
        try:
            proc.wait(timeout=whole_run * (k + 0.5) / 8)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        report = integrity.check(lib.db, lib.media, repair=True)
        assert not report.sqlite
        assert integrity.check(lib.db, lib.media).ok
        assert media.scratch_files(lib.media) == []
        names = {f"{r['sha256']}.{r['ext']}": r for r in song_rows(lib)}
        assert sorted(names) == stored(lib)
        for name in names:
            assert hashlib.sha256((lib.media / name).read_bytes()).hexdigest() == name.split(".")[0]
        linked = {r["song_id"] for r in lib.db.query("SELECT song_id FROM resident_songs")}
        assert linked == {r["id"] for r in names.values()}
