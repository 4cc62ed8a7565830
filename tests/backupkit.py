"""What the backup and restore tests share: a small but complete library, its rows and files
to compare, and the command line. Holds no tests itself."""
from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path


from content import db as dbmod
from content import ingest, library, media
from content.probe import Prober
from tests.audio import write_song

REPO = Path(__file__).resolve().parents[1]
TABLES = ("residents", "songs", "resident_songs", "plays", "reactions", "users", "user_residents",
          "settings", "kiosk_state", "audit_log")


def add_song(db, media: Path, src: Path, title: str, artist: str, year: int, prober: Prober | None = None) -> int:
    """Store a real audio file through the library's own ingest (validated, hashed, named by
    its SHA-256), then set the year a family member would have entered."""
    result = ingest.ingest_file(db, media, src, min_seconds=1, prober=prober)
    assert result.status == "added", result.reason
    with dbmod.write(db):
        db.execute("UPDATE songs SET title = ?, artist = ?, tag_year = ? WHERE id = ?",
                   [title, artist, year, result.song_id])
    return result.song_id


def fill(lib, tmp_path: Path) -> None:
    """A small but complete library: people, songs, flags, history, settings."""
    db = lib.db
    mary = library.add_resident(db, "Mary", birth_year=1938)
    tom = library.add_resident(db, "Tom", birth_year=1941)
    src = tmp_path / "src"
    with Prober() as p:
        s1 = add_song(db, lib.media, write_song(src / "a.ogg", 440, 3, tags={"title": "Moonlight"}), "Moonlight", "Glenn", 1939, p)
        s2 = add_song(db, lib.media, write_song(src / "b.flac", 523, 3), "Que sera", "Doris", 1956, p)
        s3 = add_song(db, lib.media, write_song(src / "c.wav", 659, 3), "Jerusalem", "Choir", 1916, p)
    for r, s in ((mary.id, s1), (mary.id, s2), (tom.id, s2), (tom.id, s3)):
        library.link_song(db, r, s)
    library.set_song_flags(db, mary.id, s1, favourite=True, note="Their wedding dance")
    library.set_song_flags(db, tom.id, s3, never_play=True, never_play_reason="Upset him")
    with dbmod.write(db):
        uid = db["users"].insert({"email": "anne@example.org", "role": "family", "password_hash": "scrypt:x"}).last_pk
        db["user_residents"].insert({"user_id": uid, "resident_id": mary.id})
        for i in range(5):
            pid = db["plays"].insert({"resident_id": mary.id, "song_id": s1, "started_at": f"2024-05-0{i + 1}T10:00:00Z",
                                      "ended_at": f"2024-05-0{i + 1}T10:03:00Z", "seconds_heard": 180, "ended_how": "finished"}).last_pk
            db["reactions"].insert({"resident_id": mary.id, "song_id": s1, "play_id": pid, "user_id": uid,
                                    "at": f"2024-05-0{i + 1}T10:01:00Z", "reaction": "smiled"})
        db["kiosk_state"].insert({"key": "resume", "value": json.dumps({"resident": mary.id, "song": s1, "position": 42.5})})
    library.set_setting(db, "volume_cap", 60)


def dump(db_path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(str(db_path))
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}
    finally:
        conn.close()


def files(media: Path) -> dict[str, bytes]:
    """The finished media files (not the folder's lock or scratch files)."""
    return {f.name: f.read_bytes() for f in sorted(media.iterdir()) if f.is_file() and not f.name.startswith(".")}


def nobody(_path: Path) -> list[str]:
    return []


def run_cli(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVERGREEN_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "content", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def tamper(src: Path, dst: Path, change) -> None:
    """Rewrite a backup, passing each member's bytes through `change(name, data)`."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for m in tin:
            data = tin.extractfile(m).read()
            data = change(m.name, data)
            if data is None:
                continue
            info = tarfile.TarInfo(m.name)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))
