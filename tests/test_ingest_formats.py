"""Every song a family has gets in: whatever container our player decodes sound from, tagged
where mutagen can, stored under its real format; and what is plainly not a song is turned
away in words a family member understands. Real files (ffmpeg makes the ones soundfile
cannot), real libvlc."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from content import media, sound
from content.ingest import ingest_file
from content.probe import Prober
from tests.audio import encode, write_amr, write_song

TAGS = {"title": "Moon River", "artist": "Andy Williams", "album": "Hits", "date": "1962"}


@pytest.fixture(scope="module")
def prober():
    with Prober() as p:
        yield p


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> Path:
    return write_song(tmp_path_factory.mktemp("src") / "source.wav", 523.25, 12)


def rows(lib):
    return list(lib.db.query("SELECT * FROM songs"))


def stored(lib) -> list[str]:
    return sorted(p.name for p in media.stored_files(lib.media))


def assert_nothing_left(lib):
    assert rows(lib) == [] and stored(lib) == [] and media.scratch_files(lib.media) == []


@pytest.mark.parametrize("name, ext, tagged", [
    ("Windows CD rip.wma", "wma", True),            # ASF tags through mutagen
    ("phone.m4a", "m4a", True),
    ("download.webm", "webm", False),               # mutagen does not read WebM: the filename speaks
    ("download.opus", "opus", True),
    ("dvd.ac3", "ac3", False),
])
def test_sound_files_of_every_kind_are_added(lib, mary, prober, wav, tmp_path, name, ext, tagged):
    src = encode(wav, tmp_path / name, tags=TAGS)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober,
                         original_name=f"Andy Williams - Moon River.{ext}")
    assert result.status == "added", result.reason
    (row,) = rows(lib)
    assert row["ext"] == ext and stored(lib) == [f"{row['sha256']}.{ext}"]
    assert (row["artist"], row["title"]) == ("Andy Williams", "Moon River")
    if tagged:
        assert row["tag_year"] == 1962                # only the tag knows the year
    assert 11.0 < row["duration"] < 12.6
    measured = sound.get(lib.db, row["id"])
    assert measured.analysed and measured.loudness_lufs is not None and measured.peak_db is not None


@pytest.mark.parametrize("name, ext", [("birthday.mp4", "mp4"), ("wedding.mov", "mov"), ("video.webm", "webm")])
def test_the_sound_of_a_video_is_a_song(lib, mary, prober, wav, tmp_path, name, ext):
    src = encode(wav, tmp_path / name, video=True)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    assert result.status == "added", result.reason
    (row,) = rows(lib)
    assert row["ext"] == ext and stored(lib) == [f"{row['sha256']}.{ext}"]


def test_an_old_phone_voice_recording_is_a_song(lib, mary, prober, tmp_path):
    src = write_amr(tmp_path / "Grandad singing.amr", 330, 12)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    assert result.status == "added", result.reason
    (row,) = rows(lib)
    assert row["ext"] == "amr" and row["title"] == "Grandad singing"


def test_a_wma_named_mp3_is_stored_as_wma(lib, mary, prober, wav, tmp_path):
    src = encode(wav, tmp_path / "song.wma")
    misnamed = src.rename(tmp_path / "song.mp3")
    assert ingest_file(lib.db, lib.media, misnamed, resident_id=mary.id, prober=prober).status == "added"
    (row,) = rows(lib)
    assert row["ext"] == "wma"


def test_a_video_without_sound_is_refused(lib, mary, prober, wav, tmp_path):
    src = encode(wav, tmp_path / "holiday.mp4", video=True, audio=False)
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    assert result.status == "refused" and result.reason == "This file has no sound in it."
    assert_nothing_left(lib)


def test_a_real_photo_is_refused_as_a_photo(lib, mary, prober, wav, tmp_path):
    import subprocess

    photo = tmp_path / "IMG_0001.jpg"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=64x48",
                    "-frames:v", "1", str(photo)], check=True)
    named_like_a_song = photo.rename(tmp_path / "We'll Meet Again.mp3")
    result = ingest_file(lib.db, lib.media, named_like_a_song, resident_id=mary.id, prober=prober)
    assert result.status == "refused" and result.reason == "This is a photo, not a song."
    assert_nothing_left(lib)


def test_what_is_plainly_not_a_song_is_never_decoded(lib, mary, tmp_path):
    with Prober() as prober:
        for name, data in [("list.txt", b"milk, eggs, bread\n" * 40), ("cv.pdf", b"%PDF-1.7\n" + b"0" * 2000),
                           ("songs.zip", _zip_of(tmp_path))]:
            src = tmp_path / name
            src.write_bytes(data)
            result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
            assert result.status == "refused", name
        assert prober.requests == 0
    assert "compressed folder (ZIP archive)" in result.reason and "add the songs inside" in result.reason
    assert_nothing_left(lib)


def _zip_of(tmp_path: Path) -> bytes:
    import zipfile

    path = tmp_path / "made.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("song.txt", "not really")
    return path.read_bytes()


def test_a_kind_our_player_cannot_play_is_named(lib, mary, prober, tmp_path):
    midi = tmp_path / "tune.mid"
    # A one-note standard MIDI file: the Debian player plugins have no synthesiser for it.
    track = bytes([0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00])
    midi.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + b"MTrk" + struct.pack(">I", len(track)) + track)
    result = ingest_file(lib.db, lib.media, midi, resident_id=mary.id, prober=prober)
    assert result.status == "refused"
    assert result.reason == "We can't play this kind of file (MIDI music)."
    assert_nothing_left(lib)
