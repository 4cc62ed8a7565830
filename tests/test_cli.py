"""`python -m content` as staff use it: real processes, real files, plain-words errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audio import write_song

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVERGREEN_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "content", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_plain_error(p: subprocess.CompletedProcess, words: str) -> None:
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    assert words in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


@pytest.fixture
def stick(tmp_path: Path) -> Path:
    """A USB stick as a family might hand it over: folders, messy names, one bad file."""
    root = tmp_path / "USB"
    write_song(root / "Vera Lynn" / "03 - Vera Lynn - We'll Meet Again (Remastered 2005).mp3", 440, 11)
    write_song(root / "Vera Lynn" / "The White Cliffs of Dover.ogg", 494, 11,
               tags={"title": "The White Cliffs of Dover", "artist": "Vera Lynn", "date": "1942"})
    write_song(root / "Big Bands" / "Glenn_Miller_-_In_The_Mood.flac", 523, 11)
    (root / "Big Bands" / "cover.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(3000))
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return root


def test_import_a_usb_stick(tmp_path, stick):
    data = tmp_path / "data"
    assert run("residents", "add", "Mary", "--birth-year", "1938", data=data).returncode == 0
    p = run("import", "--resident", "Mary", str(stick), data=data)
    assert p.returncode == 1, p.stderr                    # one file was refused
    lines = p.stdout.splitlines()
    assert sum(line.startswith("added: ") for line in lines) == 3
    assert any(line.startswith("refused: cover.jpg: ") for line in lines)
    assert "3 added, 0 already there, 1 refused for Mary." in p.stdout
    assert "DS_Store" not in p.stdout

    again = run("import", "--resident", "Mary", str(stick / "Vera Lynn"), data=data)
    assert again.returncode == 0
    assert again.stdout.count("duplicate: ") == 2

    listed = run("songs", "list", "--resident", "mary", "--json", data=data)
    songs = json.loads(listed.stdout)
    assert {(s["artist"], s["title"]) for s in songs} == {
        ("Vera Lynn", "We'll Meet Again"), ("Vera Lynn", "The White Cliffs of Dover"), ("Glenn Miller", "In The Mood")}
    assert run("check", data=data).stdout.strip() == "The library is whole."


def test_db_and_media_options_override_the_data_folder(tmp_path):
    song = write_song(tmp_path / "s.wav", 440, 11)
    db = tmp_path / "elsewhere" / "lib.db"
    media = tmp_path / "songs"
    assert run("residents", "add", "Ada", "--db", str(db), data=tmp_path / "unused").returncode == 0
    p = run("import", "--resident", "Ada", str(song), "--db", str(db), "--media", str(media), data=tmp_path / "unused")
    assert p.returncode == 0, p.stdout + p.stderr
    assert len([f for f in media.iterdir() if not f.name.startswith(".")]) == 1
    assert not (tmp_path / "unused" / "library.db").exists()


def test_errors_are_one_plain_sentence(tmp_path):
    data = tmp_path / "data"
    assert_plain_error(run("import", "--resident", "Nobody", str(tmp_path), data=data), "no resident called Nobody")
    assert_plain_error(run("songs", "list", "--resident", "Nobody", data=data), "no resident called Nobody")
    run("residents", "add", "Mary", data=data)
    assert_plain_error(run("residents", "add", "mary", data=data), "already a resident called mary")
    assert_plain_error(run("residents", "add", "Bob", "--birth-year", "19380", data=data), "is not a birth year we can read")
    missing = run("import", "--resident", "Mary", str(tmp_path / "nothing-here"), data=data)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "refused: " in missing.stdout and "There is no file or folder there." in missing.stdout
    broken = tmp_path / "broken" / "library.db"
    broken.parent.mkdir()
    broken.write_text("not a database " * 100)
    assert_plain_error(run("residents", "list", "--db", str(broken), data=data), "cannot be opened")


def test_check_finds_and_repairs(tmp_path):
    data = tmp_path / "data"
    run("residents", "add", "Mary", data=data)
    run("import", "--resident", "Mary", str(write_song(tmp_path / "s.mp3", 440, 11)), data=data)
    media = data / "media"
    (media / "stray.mp3").write_bytes(b"x")
    (media / ".incoming" / "abc.part").write_bytes(b"half")
    stored = next(p for p in media.iterdir() if p.suffix == ".mp3" and p.name != "stray.mp3")
    stored.unlink()

    p = run("check", data=data)
    assert p.returncode == 1
    assert "file stray.mp3 belongs to no song" in p.stdout
    assert "unfinished file abc.part" in p.stdout
    assert "has no file" in p.stdout

    fixed = run("check", "--repair", data=data)
    assert fixed.returncode == 0, fixed.stdout
    assert run("check", data=data).stdout.strip() == "The library is whole."
    assert json.loads(run("songs", "list", "--resident", "Mary", "--json", data=data).stdout) == []
